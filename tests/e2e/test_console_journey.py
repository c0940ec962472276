"""An agent's journey through the console, next to the customer's, driven in Chromium.

Two people at once, each in his own browser context: Ana (a customer) opens a ticket in the
portal and reads its ID; Laura (an agent of Soporte técnico) logs in to the console, goes to
the ID typed loosely, takes the ticket with *Asignarme* and answers. Ana sees the reply and
answers back; the ticket is Abierto again at the top of Laura's queue; Laura adds an internal
note (that Ana never sees) and resolves it. A second agent opens the same ticket in a third
context and each sees the other on the page. Last, Laura starts a reply while Ana writes
again: sending it warns that a message arrived, keeps her text, and sending again goes through.

Everything runs in Spanish, the default language; the visible words are the Spanish
catalogue's. The console queue and ticket page are photographed at desktop and phone width,
and at 375 px nothing scrolls sideways.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from atiende.accounts.models import User
from atiende.tickets import routing
from atiende.tickets import services as ticket_services
from atiende.tickets.models import Message, Ticket
from tests.conftest import PASSWORD, Cast, staff_create
from tests.e2e.conftest import screenshot
from tests.e2e.test_portal_journey import (
    TEXTS,
    choose_department,
    fill_ticket,
    fits_width,
    read_confirmation,
)
from tests.e2e.test_portal_journey import log_in as customer_log_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

DESKTOP = (1280, 800)
PHONE = (375, 740)

# The console's words in Spanish, as src/atiende/locale/es/LC_MESSAGES/django.po has them.
CONSOLE = {
    "go_to_id": "Ir al ID del ticket",  # "Go to ticket ID"
    "go": "Ir",
    "assign_me": "Asignarme",
    "reply_box": "Respuesta al cliente",  # "Reply to the customer"
    "send_reply": "Enviar respuesta",
    "note_box": "Nota interna",
    "add_note": "Agregar nota interna",
    "resolve": "Resolver",
    "assigned_to_you": "Ahora el ticket está asignado a ti.",
    "reply_sent": "Tu respuesta se envió al cliente.",
    "note_added": "Se agregó la nota interna. El cliente no la ve.",
    "resolved_msg": "El ticket quedó resuelto.",
    "also_here": "También están aquí:",  # "Also here:"
    "arrived": "Llegó un mensaje nuevo desde que abriste este ticket",
    "new_messages_error": "Llegaron mensajes nuevos a este ticket mientras escribías.",
    "one_new_marked": "Hay un mensaje nuevo marcado arriba.",
    "new_flag": "Nuevo",
    "note_flag": "Nota interna: el cliente nunca la ve",
    "my_tickets": "Mis tickets",
    "open": "Abierto",
    "pending": "Pendiente",
    "resolved": "Resuelto",
}
ES = TEXTS["es"]
SUBJECT = "El correo de ejemplo.mx rebota"
FIRST_BODY = "Desde esta mañana los correos a ventas@ejemplo.mx regresan con error 550."


# --- Helpers ---------------------------------------------------------------------------------


@pytest.fixture
def problems() -> Iterator[list[str]]:
    """What went wrong inside the pages: dialogs opened, JavaScript errors. Must stay empty."""
    found: list[str] = []
    yield found
    assert not found, found


@pytest.fixture
def open_page(page_factory: Callable[..., Page], problems: list[str]) -> Callable[..., Page]:
    """page_factory, with every dialog and every JavaScript error noted in `problems`.

    Nothing in this journey asks for a confirmation (Cerrar, the one action that does, is not
    used), so any dialog is a failure; it is dismissed at once so that the page goes on.
    """

    def _open(**options: Any) -> Page:
        page = page_factory(**options)

        def on_dialog(dialog: Dialog) -> None:
            problems.append(f"dialog {dialog.type}: {dialog.message!r} on {page.url}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        return page

    return _open


def agent_log_in(page: Page, email: str) -> None:
    page.goto("/consola/entrar/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/consola/$"))
    expect(page.get_by_role("textbox", name=CONSOLE["go_to_id"], exact=True)).to_be_visible()


def console_status(page: Page) -> Locator:
    return page.locator(".ticket-head .ticket-id .badge")


def portal_status(page: Page) -> Locator:
    return page.locator(".ticket-head .badge")


def flash(page: Page) -> Locator:
    return page.locator("ul.messages")


def reply_box(page: Page) -> Locator:
    return page.locator("#responder").get_by_role("textbox", name=CONSOLE["reply_box"])


def heartbeat(page: Page) -> None:
    """What the page does every 20 s, now: the tab comes back into view, so it beats at once
    (console_ticket.js listens to visibilitychange). No waiting for the timer."""
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")


def customer_reply(page: Page, text: str) -> None:
    """Responder on the portal's ticket page, then Enviar: the ticket is Abierto again."""
    page.locator("details#responder summary", has_text=ES["reply"]).click()
    box = page.locator("details#responder textarea")
    expect(box).to_be_visible()
    box.fill(text)
    page.locator("details#responder").get_by_role("button", name=ES["send"], exact=True).click()
    expect(portal_status(page)).to_have_text(ES["open"])
    expect(page.locator("ol.thread > li").last.locator(".body")).to_have_text(text)


# --- The journey -----------------------------------------------------------------------------


def test_agent_and_customer_work_a_ticket(
    open_page: Callable[..., Page], problems: list[str], cast: Cast
) -> None:
    agent = cast.agent
    customer = open_page(viewport=DESKTOP)
    console = open_page(viewport=DESKTOP)

    # 1. Ana logs in, opens a ticket in Soporte técnico and reads its ID on the confirmation.
    customer_log_in(customer, cast.ana.email)
    choose_department(customer, ES)
    fill_ticket(customer, ES, subject=SUBJECT, body=FIRST_BODY)
    customer.get_by_role("button", name=ES["send"], exact=True).click()
    reference = read_confirmation(customer)
    customer.get_by_role("link", name="Ver el ticket", exact=True).click()
    expect(customer).to_have_url(re.compile(rf"/tickets/{reference}/$"))
    expect(portal_status(customer)).to_have_text(ES["open"])

    # 2. Laura logs in to the console and types the ID as people do: lower case, spaces.
    agent_log_in(console, agent.email)
    loose = reference.lower().replace("-", " ")
    console.get_by_role("textbox", name=CONSOLE["go_to_id"], exact=True).fill(loose)
    console.locator("form.jump").get_by_role("button", name=CONSOLE["go"], exact=True).click()
    expect(console).to_have_url(re.compile(rf"/consola/tickets/{reference}/$"))
    expect(console.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(console_status(console)).to_have_text(CONSOLE["open"])
    expect(console.locator("dl.facts dd.assignee")).to_have_text("Nadie")
    expect(console.locator("ol.timeline li.from-customer .body")).to_have_text(FIRST_BODY)

    # Asignarme: she is the assignee now, and the button is gone.
    console.get_by_role("button", name=CONSOLE["assign_me"], exact=True).click()
    expect(flash(console)).to_contain_text(CONSOLE["assigned_to_you"])
    expect(console.locator("dl.facts dd.assignee")).to_have_text(agent.full_name)
    expect(console.get_by_role("button", name=CONSOLE["assign_me"], exact=True)).to_have_count(0)

    # A public reply.
    first_reply = "Hola Ana, revisamos el servidor de correo. ¿Puedes enviar otra prueba?"
    reply_box(console).fill(first_reply)
    console.get_by_role("button", name=CONSOLE["send_reply"], exact=True).click()
    expect(flash(console)).to_contain_text(CONSOLE["reply_sent"])
    expect(console_status(console)).to_have_text(CONSOLE["pending"])
    expect(console.locator("ol.timeline li.from-staff .body")).to_have_text(first_reply)
    expect(reply_box(console)).to_have_value("")

    # Meanwhile Laura takes another ticket: it is her latest activity, until Ana answers.
    other = ticket_services.ticket_open(
        customer=cast.beto,
        department=cast.soporte,
        subject="Renovación del dominio",
        body="¿Cuándo vence ejemplo.com.mx?",
    )
    routing.ticket_assign(ticket=other, assignee=agent, actor=agent)

    # 3. Ana reloads her page: Pendiente, and Laura's reply under Laura's name. She answers.
    customer.reload()
    expect(portal_status(customer)).to_have_text(ES["pending"])
    staff_reply = customer.locator("ol.thread > li.from-staff")
    expect(staff_reply).to_have_count(1)
    expect(staff_reply.locator(".meta")).to_contain_text(agent.full_name)
    expect(staff_reply.locator(".body")).to_have_text(first_reply)
    customer_reply(customer, "Ya envié otra prueba y volvió a rebotar.")

    # 4. Laura's queue: the ticket is back in Abierto, at the top.
    console.locator("nav.console-nav").get_by_role(
        "link", name=CONSOLE["my_tickets"], exact=True
    ).click()
    expect(console).to_have_url(re.compile(r"/consola/\?vista=mios$"))
    expect(console.get_by_role("heading", level=1)).to_have_text(CONSOLE["my_tickets"])
    rows = console.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator("td.ref")).to_have_text(reference)
    expect(rows.first.locator(".badge")).to_have_text(CONSOLE["open"])
    expect(rows.nth(1).locator("td.ref")).to_have_text(other.reference)
    screenshot(console, "es-console-desktop-1-queue")
    rows.first.get_by_role("link", name=SUBJECT, exact=True).click()
    expect(console).to_have_url(re.compile(rf"/consola/tickets/{reference}/$"))
    expect(console_status(console)).to_have_text(CONSOLE["open"])

    # An internal note with a marker, then Resolver.
    marker = f"NOTA-PRIVADA-{reference}-7f3a"
    note_text = f"{marker}: el registro MX apunta a un servidor viejo."
    console.locator("#nota").get_by_role("textbox", name=CONSOLE["note_box"]).fill(note_text)
    console.get_by_role("button", name=CONSOLE["add_note"], exact=True).click()
    expect(flash(console)).to_contain_text(CONSOLE["note_added"])
    note = console.locator("ol.timeline li.note")
    expect(note).to_have_count(1)
    expect(note.locator(".note-flag")).to_have_text(CONSOLE["note_flag"])
    expect(note.locator(".body")).to_have_text(note_text)
    expect(console_status(console)).to_have_text(CONSOLE["open"])  # a note changes nothing
    console.locator(".ticket-tools").get_by_role(
        "button", name=CONSOLE["resolve"], exact=True
    ).click()
    expect(flash(console)).to_contain_text(CONSOLE["resolved_msg"])
    expect(console_status(console)).to_have_text(CONSOLE["resolved"])

    # 5. Ana's page: Resuelto, and not a trace of the note.
    customer.reload()
    expect(portal_status(customer)).to_have_text(CONSOLE["resolved"])
    expect(customer.locator("ol.thread > li")).to_have_count(3)
    assert marker not in customer.content()
    assert "registro MX" not in customer.content()

    # 6. A second agent of Soporte técnico opens the ticket (on his phone).
    second: User = staff_create("mario@example.com", "Mario Segundo", cast.soporte)
    colleague = open_page(viewport=PHONE)
    agent_log_in(colleague, second.email)
    colleague.goto(f"/consola/tickets/{reference}/")
    expect(colleague.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    # Laura's page loaded a moment ago (back from Resolver), so he sees her at once: the page
    # it replaced said "gone" only after it loaded, and that must not have removed her.
    expect(colleague.locator("#presence .also-here")).to_contain_text(CONSOLE["also_here"])
    expect(colleague.locator("#presence .also-here")).to_contain_text(agent.full_name)
    fits_width(colleague)
    # Laura's page, without a reload: its heartbeat names him.
    also_here = console.locator("#presence .also-here")
    expect(also_here).to_have_count(0)
    heartbeat(console)
    expect(also_here).to_contain_text(CONSOLE["also_here"])
    expect(also_here).to_contain_text(second.full_name)
    # And a reload renders him too.
    console.reload()
    expect(also_here).to_contain_text(second.full_name)

    # 7. Laura starts a reply; meanwhile Ana writes again.
    draft = "Ana, cambiamos el registro MX; puede tardar una hora en propagarse."
    reply_box(console).fill(draft)
    late = "Por cierto, también rebotan los correos a soporte@ejemplo.mx."
    customer_reply(customer, late)
    # Her next heartbeat says a message arrived; her text is untouched.
    heartbeat(console)
    expect(console.locator("#presence .new-activity")).to_contain_text(CONSOLE["arrived"])
    expect(reply_box(console)).to_have_value(draft)
    # She sends anyway: refused, the new message marked, her text kept.
    console.get_by_role("button", name=CONSOLE["send_reply"], exact=True).click()
    expect(console.locator(".reply-form .alert-error")).to_contain_text(
        CONSOLE["new_messages_error"]
    )
    expect(console.locator(".new-activity-note")).to_contain_text(CONSOLE["one_new_marked"])
    fresh = console.locator("ol.timeline li.is-new")
    expect(fresh).to_have_count(1)
    expect(fresh.locator(".new-flag")).to_have_text(CONSOLE["new_flag"])
    expect(fresh.locator(".body")).to_have_text(late)
    expect(reply_box(console)).to_have_value(draft)
    ticket = Ticket.objects.get(reference=reference)
    assert not Message.objects.filter(ticket=ticket, body=draft).exists()
    # Read, it still fits: sending again goes through.
    console.get_by_role("button", name=CONSOLE["send_reply"], exact=True).click()
    expect(flash(console)).to_contain_text(CONSOLE["reply_sent"])
    expect(console_status(console)).to_have_text(CONSOLE["pending"])
    expect(console.locator("ol.timeline li.from-staff").last.locator(".body")).to_have_text(draft)
    expect(console.locator("ol.timeline li.is-new")).to_have_count(0)
    assert Message.objects.filter(ticket=ticket, body=draft).count() == 1
    customer.reload()
    expect(portal_status(customer)).to_have_text(ES["pending"])
    expect(customer.locator("ol.thread > li").last.locator(".body")).to_have_text(draft)
    assert marker not in customer.content()

    # The console at desktop and phone width: the ticket page and the queue.
    screenshot(console, "es-console-desktop-2-ticket")
    console.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    console.reload()
    expect(console_status(console)).to_have_text(CONSOLE["pending"])
    fits_width(console)
    screenshot(console, "es-console-phone-2-ticket")
    console.goto("/consola/?vista=mios")
    expect(console.locator("table.queue tbody tr").first.locator("td.ref")).to_have_text(reference)
    fits_width(console)
    screenshot(console, "es-console-phone-1-queue")

    assert not problems, problems
