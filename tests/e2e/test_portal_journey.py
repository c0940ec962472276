"""The customer's journey through the portal, driven in Chromium as a person would drive it.

Ana logs in, opens a ticket for "Soporte técnico" with two attachments, reads its ID on the
confirmation page, follows it in the history, gets an agent's reply, answers, closes and
reopens it, and finds it again by a word and by its ID. The journey runs in Spanish (the
default language) and once more in English, switched with the header's selector.

Around it: a double click on Enviar opens one ticket; the key pages fit a 375 px phone;
another account's ticket looks exactly like one that does not exist; markup in a subject is
shown as text and never runs.

Visible texts are asserted in the language under test (the help pages' words in Spanish);
form fields whose wording is not part of the help pages are found by their ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import translation
from playwright.sync_api import Dialog, FilePayload, Locator, Page, expect

from atiende.accounts.models import Service
from atiende.mail.models import OutboxMessage
from atiende.tickets import services as ticket_services
from atiende.tickets.models import Ticket
from tests.conftest import PASSWORD, Cast
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


DESKTOP = (1280, 800)
PHONE = (375, 740)

# What the person reads, per interface language. The Spanish words are the help pages' words.
TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "support": "Soporte",
        "open_ticket": "Abrir ticket",
        "history": "Historial de tickets",
        "search": "Buscar",
        "send": "Enviar",
        "reply": "Responder",
        "close": "Cerrar",
        "reopen": "Reabrir",
        "open": "Abierto",
        "pending": "Pendiente",
        "closed": "Cerrado",
        "subject": "Asunto",
        "service": "Servicio",
        "message": "Mensaje",
    },
    "en": {
        "support": "Support",
        "open_ticket": "Open ticket",
        "history": "Ticket history",
        "search": "Search",
        "send": "Send",
        "reply": "Reply",
        "close": "Close",
        "reopen": "Reopen",
        "open": "Open",
        "pending": "Pending",
        "closed": "Closed",
        "subject": "Subject",
        "service": "Service",
        "message": "Message",
    },
}

SOPORTE = "Soporte técnico"
SOPORTE_DESCRIPTION = "Problemas técnicos en los servicios de hosting"
REFERENCE = re.compile(r"^[A-Z]+-[0-9A-Z]{4}-[0-9A-Z]{4}$")

# Two small files, built in memory: a real 1x1 PNG and a text file.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a3e5a6d4"
    "0000000049454e44ae426082"
)
STEPS_TXT = b"1. Abrir ejemplo.mx\n2. Ver el error 500\n"
FILES: list[FilePayload] = [
    {"name": "captura-error.png", "mimeType": "image/png", "buffer": PNG_1X1},
    {"name": "pasos.txt", "mimeType": "text/plain", "buffer": STEPS_TXT},
]


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

    A dialog is dismissed at once (so the page goes on) and fails the test: the journey never
    asks the browser for an alert or a confirmation, so a dialog means injected script ran.
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


def log_in(page: Page, email: str) -> None:
    page.goto("/cuenta/entrar/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/tickets/$"))


def menu_link(page: Page, text: str) -> Locator:
    return page.locator("nav.mainnav").get_by_role("link", name=text, exact=True)


def fits_width(page: Page) -> None:
    """No horizontal scroll; on failure, say which elements stick out."""
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if not fits:
        culprits = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .slice(0, 8)
                .map(e => `${e.tagName.toLowerCase()}.${e.className} → ${Math.round(
                    e.getBoundingClientRect().right)}px`)"""
        )
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        pytest.fail(f"{page.url} scrolls sideways (scrollWidth, innerWidth = {width}): {culprits}")


def service_label(service: Service, lang: str) -> str:
    """The option text the service has in the form, in the page's language."""
    with translation.override(lang):
        return str(service)


def choose_department(page: Page, t: dict[str, str]) -> None:
    """Soporte → Abrir ticket, then step 1: the department, each with what it handles."""
    menu_link(page, t["open_ticket"]).click()
    expect(page).to_have_url(re.compile(r"/soporte/abrir/$"))
    soporte = page.get_by_role("radio", name=re.compile(SOPORTE))
    expect(page.locator("label", has=soporte)).to_contain_text(SOPORTE_DESCRIPTION)
    expect(page.get_by_text(SOPORTE_DESCRIPTION)).to_be_visible()
    soporte.check()
    page.locator("main form").get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/soporte/abrir/\?departamento=soporte-tecnico$"))
    expect(page.get_by_role("radio", name=re.compile(SOPORTE))).to_be_checked()


def fill_ticket(
    page: Page,
    t: dict[str, str],
    *,
    subject: str,
    body: str,
    service: str | None = None,
    files: list[FilePayload] | None = None,
) -> None:
    # By accessible name: the label without its "required" star, which is aria-hidden.
    page.get_by_role("textbox", name=t["subject"], exact=True).fill(subject)
    if service is not None:
        page.get_by_role("combobox", name=t["service"], exact=True).select_option(label=service)
    page.get_by_role("textbox", name=t["message"], exact=True).fill(body)
    if files:
        page.locator("#id_attachments").set_input_files(files)


def read_confirmation(page: Page) -> str:
    """The confirmation page shows the ticket ID, large: return it."""
    expect(page).to_have_url(re.compile(r"/soporte/abierto/[^/]+/$"))
    big_id = page.locator("#ticket-id")
    expect(big_id).to_have_text(REFERENCE)
    size = big_id.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    body_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 1.5 * body_size, (size, body_size)
    return big_id.inner_text().strip()


def status_badge(page: Page) -> Locator:
    return page.locator(".ticket-head .badge")


# --- The journey -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["es", "en"])
def test_customer_journey(
    open_page: Callable[..., Page], problems: list[str], cast: Cast, lang: str
) -> None:
    t = TEXTS[lang]
    page = open_page(locale="es-MX", viewport=DESKTOP)

    # 1. Log in. The interface speaks Spanish first; English is one choice in the header.
    log_in(page, cast.ana.email)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    if lang == "en":
        # The selector submits itself on change, once the page's script is loaded.
        page.wait_for_load_state("load")
        page.locator("#language-select").select_option("en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page).to_have_url(re.compile(r"/tickets/$"))
    expect(menu_link(page, t["open_ticket"])).to_be_visible()
    open_link = page.get_by_role("link", name=t["open_ticket"], exact=True)
    support = page.locator("nav.mainnav .navgroup").filter(has=open_link)
    expect(support.locator(".navlabel")).to_have_text(t["support"])
    expect(menu_link(page, t["history"])).to_be_visible()
    expect(menu_link(page, t["search"])).to_be_visible()

    # 2. Soporte → Abrir ticket: department, Asunto, Servicio, Mensaje, two files, Enviar.
    choose_department(page, t)
    subject = "El sitio no carga" if lang == "es" else "The site does not load"
    body = (
        "Desde ayer ejemplo.mx muestra un error 500.\nEl menú parpadea antes del error."
        if lang == "es"
        else "Since yesterday ejemplo.mx shows an error 500.\nThe menu flickers first."
    )
    word = "parpadea" if lang == "es" else "flickers"
    hosting = service_label(cast.hosting, lang)
    fill_ticket(page, t, subject=subject, body=body, service=hosting, files=FILES)
    screenshot(page, f"{lang}-desktop-1-new-ticket")
    page.get_by_role("button", name=t["send"], exact=True).click()

    reference = read_confirmation(page)
    screenshot(page, f"{lang}-desktop-2-confirmation")
    receipts = OutboxMessage.objects.filter(
        to=cast.ana.email, template="ticket_receipt", subject__contains=reference
    )
    assert receipts.count() == 1, list(OutboxMessage.objects.values_list("to", "subject"))

    # 4. Historial de tickets: listed as Abierto; the status filter; the subject opens it.
    menu_link(page, t["history"]).click()
    expect(page).to_have_url(re.compile(r"/tickets/$"))
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text(t["open"])
    filters = page.locator("ul.filters")
    filters.get_by_role("link", name=re.compile(rf"^{t['closed']} \(0\)$")).click()
    expect(page).to_have_url(re.compile(r"\?estado=closed$"))
    expect(page.get_by_role("row").filter(has_text=reference)).to_have_count(0)
    only_open = filters.get_by_role("link", name=re.compile(rf"^{t['open']} \(1\)$"))
    only_open.click()
    expect(page).to_have_url(re.compile(r"\?estado=open$"))
    expect(only_open).to_have_attribute("aria-current", "true")
    expect(row).to_have_count(1)
    screenshot(page, f"{lang}-desktop-3-history")
    row.get_by_role("link", name=subject, exact=True).click()

    expect(page).to_have_url(re.compile(rf"/tickets/{reference}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(status_badge(page)).to_have_text(t["open"])
    expect(page.locator(".status-explained")).to_contain_text(t["open"])
    first = page.locator("ol.thread > li").first
    expect(first.locator(".body")).to_have_text(body)
    assert first.locator(".body").inner_text() == body  # the line break is kept
    expect(page.locator("dl.facts")).to_contain_text(hosting)
    expect(page.locator("dl.facts")).to_contain_text(SOPORTE)
    for file in FILES:
        link = first.locator(".attachments").get_by_role("link", name=file["name"], exact=True)
        expect(link).to_have_attribute("download", "")
    with page.expect_download() as download_info:
        first.get_by_role("link", name="pasos.txt", exact=True).click()
    download = download_info.value
    assert download.suggested_filename == "pasos.txt"
    with open(download.path(), "rb") as handle:
        assert handle.read() == STEPS_TXT
    screenshot(page, f"{lang}-desktop-4-ticket")

    # 5. An agent answers (on the server side): Pendiente, and his reply with his name.
    ticket_services.ticket_reply(
        ticket=Ticket.objects.get(reference=reference),
        author=cast.agent,
        body="Hola Ana, ya revisamos el servidor. ¿Sigue el error?",
    )
    page.reload()
    expect(status_badge(page)).to_have_text(t["pending"])
    staff_reply = page.locator("ol.thread > li.from-staff")
    expect(staff_reply).to_have_count(1)
    expect(staff_reply.locator(".meta")).to_contain_text(cast.agent.full_name)
    expect(staff_reply.locator(".body")).to_have_text(
        "Hola Ana, ya revisamos el servidor. ¿Sigue el error?"
    )

    # 6. Responder opens the reply section; Enviar brings the ticket back to Abierto.
    reply_section = page.locator("details#responder")
    reply_box = reply_section.locator("textarea")
    expect(reply_box).to_be_hidden()
    reply_section.locator("summary", has_text=t["reply"]).click()
    expect(reply_box).to_be_visible()
    reply_box.fill("Sí, sigue igual esta mañana.")
    reply_section.get_by_role("button", name=t["send"], exact=True).click()
    expect(status_badge(page)).to_have_text(t["open"])
    expect(page.locator("ol.thread > li")).to_have_count(3)
    expect(page.locator("ol.thread > li").last.locator(".body")).to_have_text(
        "Sí, sigue igual esta mañana."
    )

    # 7. Cerrar asks first; confirmed, the ticket is Cerrado; Reabrir makes it Abierto again.
    page.get_by_role("link", name=t["close"], exact=True).click()
    expect(page).to_have_url(re.compile(rf"/tickets/{reference}/cerrar/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    page.locator("main form").get_by_role("button").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{reference}/$"))
    expect(status_badge(page)).to_have_text(t["closed"])
    expect(page.get_by_role("link", name=t["close"], exact=True)).to_have_count(0)
    page.get_by_role("button", name=t["reopen"], exact=True).click()
    expect(status_badge(page)).to_have_text(t["open"])
    expect(page.get_by_role("button", name=t["reopen"], exact=True)).to_have_count(0)

    # 8. Buscar: a word of the message, with the match highlighted; the ID, typed loosely.
    menu_link(page, t["search"]).click()
    search_box = page.get_by_role("searchbox")
    search_box.fill(word)
    page.locator("main form").get_by_role("button", name=t["search"], exact=True).click()
    hit = page.locator("ol.results > li").filter(has_text=reference)
    expect(hit).to_have_count(1)
    expect(hit.locator(".snippet mark")).to_have_text(word)
    expect(hit.get_by_role("link", name=subject, exact=True)).to_be_visible()
    search_box = page.get_by_role("searchbox")
    search_box.fill(reference.lower().replace("-", " "))
    search_box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tickets/{reference}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)

    assert Ticket.objects.filter(customer=cast.ana).count() == 1
    assert not problems, problems


# --- A double click, and the pages at phone width --------------------------------------------


def test_double_click_opens_one_ticket_and_pages_fit_a_phone(
    open_page: Callable[..., Page], problems: list[str], cast: Cast
) -> None:
    t = TEXTS["es"]
    page = open_page(locale="es-MX", viewport=PHONE)
    log_in(page, cast.ana.email)
    fits_width(page)

    choose_department(page, t)
    # What customers paste: an address without spaces, a file named by a phone camera.
    subject = "No carga https://www.ejemplo.mx/tienda/checkout/confirmar-pedido?id=20241121"
    photo = "Captura-de-pantalla-2024-11-21-a-las-10.42.17-error.png"
    files: list[FilePayload] = [{**FILES[0], "name": photo}]
    fill_ticket(
        page,
        t,
        subject=subject,
        body="Desde el lunes el pago falla.\nEl buzón de contacto@ejemplo.mx tampoco recibe nada.",
        service=service_label(cast.domain, "es"),
        files=files,
    )
    fits_width(page)
    screenshot(page, "es-phone-1-new-ticket")

    # 3. A double click on Enviar of a fresh form: one ticket.
    page.get_by_role("button", name=t["send"], exact=True).dblclick()
    reference = read_confirmation(page)
    fits_width(page)
    screenshot(page, "es-phone-2-confirmation")
    assert list(Ticket.objects.filter(customer=cast.ana).values_list("reference", flat=True)) == [
        reference
    ]
    assert OutboxMessage.objects.filter(template="ticket_receipt", to=cast.ana.email).count() == 1

    menu_link(page, t["history"]).click()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row.locator(".badge")).to_have_text(t["open"])
    fits_width(page)
    screenshot(page, "es-phone-3-history")

    row.get_by_role("link", name=subject, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/tickets/{reference}/$"))
    expect(status_badge(page)).to_have_text(t["open"])
    expect(page.get_by_role("link", name=photo, exact=True)).to_be_visible()
    fits_width(page)
    screenshot(page, "es-phone-4-ticket")
    page.locator("details#responder summary").click()
    expect(page.locator("details#responder textarea")).to_be_visible()
    fits_width(page)
    screenshot(page, "es-phone-5-ticket-reply-open")

    page.get_by_role("link", name=t["close"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/cerrar/$"))
    fits_width(page)

    menu_link(page, t["search"]).click()
    page.get_by_role("searchbox").fill("buzón")
    page.get_by_role("searchbox").press("Enter")
    expect(page.locator("ol.results > li")).to_have_count(1)
    expect(page.locator("ol.results .snippet mark")).to_have_text("buzón")
    fits_width(page)

    page.goto("/tickets/ATN-0000-0000/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    fits_width(page)
    assert not problems, problems


# --- Another account's ticket; markup in a subject -------------------------------------------


def test_other_accounts_ticket_is_not_found_and_markup_is_text(
    open_page: Callable[..., Page], problems: list[str], cast: Cast
) -> None:
    t = TEXTS["es"]
    others = ticket_services.ticket_open(
        customer=cast.otro,
        department=cast.soporte,
        subject="Mi dominio otra.net no resuelve",
        body="Confidencial: la zona DNS de otra.net está vacía.",
        service=cast.other_domain,
    )
    page = open_page(locale="es-MX", viewport=DESKTOP)
    log_in(page, cast.ana.email)

    # 9. Another account's ticket URL typed in the address bar: the page of a ticket that
    # does not exist, word for word.
    def not_found(path: str) -> tuple[str, str]:
        response = page.goto(path)
        assert response is not None and response.status == 404, (path, response)
        return page.title(), page.locator("main").inner_text()

    missing = others.reference[:-1] + ("0" if others.reference[-1] != "0" else "1")
    assert not Ticket.objects.filter(reference=missing).exists()
    assert not_found(f"/tickets/{others.reference}/") == not_found(f"/tickets/{missing}/")
    assert "otra.net" not in page.content()
    page.goto("/tickets/")
    expect(page.get_by_role("row").filter(has_text=others.reference)).to_have_count(0)

    # 10. A subject with markup is shown as text; no dialog ever opens.
    markup = "<script>alert(1)</script>"
    choose_department(page, t)
    fill_ticket(page, t, subject=markup, body="<img src=x onerror=alert(2)> y <b>negritas</b>")
    page.get_by_role("button", name=t["send"], exact=True).click()
    reference = read_confirmation(page)
    assert not problems, problems
    page.goto(f"/tickets/{reference}/")
    assert not problems, problems
    expect(page.get_by_role("heading", level=1)).to_have_text(markup)
    expect(page.locator("ol.thread .body").first).to_have_text(
        "<img src=x onerror=alert(2)> y <b>negritas</b>"
    )
    assert markup in page.title()
    menu_link(page, t["history"]).click()
    expect(page.get_by_role("link", name=markup, exact=True)).to_be_visible()
    menu_link(page, t["search"]).click()
    page.get_by_role("searchbox").fill("script")
    page.get_by_role("searchbox").press("Enter")
    hit = page.locator("ol.results > li").filter(has_text=reference)
    expect(hit.locator(".result-subject")).to_have_text(markup)
    expect(hit.locator(".result-subject mark").first).to_have_text("script")
    assert not problems, problems
