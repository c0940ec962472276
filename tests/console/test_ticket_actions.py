"""The page's actions: each calls one domain function and comes back to the ticket with a
message; bad input changes nothing and keeps what the agent wrote."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponseBase
from django.test import Client

from atiende.mail.models import OutboxMessage
from atiende.tickets import routing, services
from atiende.tickets.models import Attachment, Event, Message, Ticket
from tests.conftest import Cast, staff_create
from tests.console.ticket_support import html, login, page_url, post, upload, url

OpenTicket = Callable[..., Ticket]


def _followed(client: Client, response: HttpResponseBase) -> str:
    """The page the action redirected to, with its message."""
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    return html(client.get(location.split("#")[0]))


def _reply_data(ticket: Ticket, body: str, **extra: object) -> dict[str, object]:
    last = Message.objects.filter(ticket=ticket).order_by("-id").first()
    return {"body": body, "seen_message_id": last.pk if last else 0, **extra}


class TestReply:
    def test_a_reply_is_stored_mailed_to_the_customer_and_waits_on_him(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        client = login(cast.agent)
        response = post(
            client,
            ticket,
            "responder",
            {**_reply_data(ticket, "Reinicie el servidor"), "attachments": [upload("guia.txt")]},
        )
        message = Message.objects.get(ticket=ticket, body="Reinicie el servidor")
        assert response["Location"] == f"{page_url(ticket)}#m-{message.public_id}"
        assert not message.is_internal
        assert Attachment.objects.filter(message=message, filename="guia.txt").exists()
        ticket.refresh_from_db()
        assert ticket.status == "pending"
        mail = OutboxMessage.objects.get(ticket=ticket, template="ticket_staff_reply")
        assert mail.to == cast.ana.email
        assert "Your reply was sent to the customer." in _followed(client, response)

    def test_reply_and_resolve_resolves(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        client = login(cast.agent)
        response = post(client, ticket, "responder", _reply_data(ticket, "Listo", resolve="1"))
        ticket.refresh_from_db()
        assert ticket.status == "resolved"
        assert "Your reply was sent and the ticket is resolved." in _followed(client, response)

    def test_an_empty_reply_says_so_and_stores_nothing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        response = post(login(cast.agent), ticket, "responder", _reply_data(ticket, "  \n "))
        assert response.status_code == 200
        assert "Write the reply before sending it." in html(response)
        assert Message.objects.filter(ticket=ticket).count() == 1
        assert not OutboxMessage.objects.filter(template="ticket_staff_reply").exists()
        ticket.refresh_from_db()
        assert ticket.status == "open"

    def test_a_refused_file_keeps_the_text_and_asks_for_the_files_again(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        data = {**_reply_data(ticket, "Mi texto largo"), "attachments": [upload("virus.exe")]}
        response = post(login(cast.agent), ticket, "responder", data)
        page = html(response)
        assert "looks like a program" in page
        assert ">\nMi texto largo</textarea>" in page
        assert "attach the files again" in page
        assert Message.objects.filter(ticket=ticket).count() == 1

    def test_a_resubmitted_form_sends_one_reply(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        client = login(cast.agent)
        data = _reply_data(ticket, "Una vez", submission_key="6f7c1d2e-1b7a-4b44-9c55-0d7a3b7e9f10")
        post(client, ticket, "responder", data)
        post(client, ticket, "responder", data)
        assert Message.objects.filter(ticket=ticket, body="Una vez").count() == 1
        assert OutboxMessage.objects.filter(template="ticket_staff_reply").count() == 1


class TestNote:
    def test_a_note_is_internal_changes_no_status_and_mails_nobody(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta")
        mails = OutboxMessage.objects.count()
        client = login(cast.agent)
        response = post(client, ticket, "nota", {"note-body": "Cliente VIP, cuidado"})
        note = Message.objects.get(ticket=ticket, body="Cliente VIP, cuidado")
        assert note.is_internal
        assert response["Location"] == f"{page_url(ticket)}#m-{note.public_id}"
        ticket.refresh_from_db()
        assert ticket.status == "pending"
        assert OutboxMessage.objects.count() == mails
        assert "Internal note added. The customer does not see it." in _followed(client, response)

    def test_an_empty_note_says_so_and_stores_nothing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        response = post(login(cast.agent), ticket, "nota", {"note-body": "   "})
        assert response.status_code == 200
        assert "Write the note before adding it." in html(response)
        assert Message.objects.filter(ticket=ticket).count() == 1

    def test_a_note_refused_for_its_file_keeps_its_text(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        data = {"note-body": "Texto de la nota", "note-attachments": [upload("x.exe")]}
        page = html(post(login(cast.agent), ticket, "nota", data))
        assert ">\nTexto de la nota</textarea>" in page
        assert "looks like a program" in page
        assert Message.objects.filter(ticket=ticket).count() == 1


class TestStatus:
    def test_the_buttons_follow_the_lifecycle(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        client = login(cast.agent)
        page = html(client.get(page_url(ticket)))
        assert ">Resolve</button>" in page and ">Close</button>" in page
        assert ">Reopen</button>" not in page
        services.ticket_resolve(ticket=ticket, agent=cast.agent)
        page = html(client.get(page_url(ticket)))
        assert ">Resolve</button>" not in page
        assert ">Close</button>" in page and ">Reopen</button>" in page
        services.ticket_close(ticket=ticket, actor=cast.agent)
        page = html(client.get(page_url(ticket)))
        assert ">Reopen</button>" in page
        assert ">Resolve</button>" not in page and ">Close</button>" not in page

    def test_resolve_close_and_reopen(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        client = login(cast.agent)
        for action, before, after, said in (
            ("resolver", "open", "resolved", "The ticket is resolved."),
            ("cerrar", "resolved", "closed", "The ticket is closed."),
            ("reabrir", "closed", "open", "The ticket is open again."),
        ):
            response = post(client, ticket, action, {"expected_status": before})
            ticket.refresh_from_db()
            assert ticket.status == after
            assert said in _followed(client, response)
        assert Event.objects.filter(ticket=ticket, kind=Event.Kind.STATUS).count() == 3

    def test_a_status_form_without_the_status_it_showed_applies_nothing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        client = login(cast.agent)
        response = post(client, ticket, "cerrar", {})
        assert "The page was out of date" in _followed(client, response)
        ticket.refresh_from_db()
        assert ticket.status == "open"


class TestAssign:
    def test_assign_to_me_and_let_go(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        client = login(cast.agent)
        page = html(client.get(page_url(ticket)))
        assert ">Assign to me</button>" in page
        data = {"assignee": cast.agent.pk, "expected_assignee": 0}
        response = post(client, ticket, "asignar", data)
        ticket.refresh_from_db()
        assert ticket.assignee == cast.agent
        page = _followed(client, response)
        assert "The ticket is now assigned to you." in page
        assert ">Unassign me</button>" in page
        response = post(
            client, ticket, "asignar", {"assignee": "", "expected_assignee": cast.agent.pk}
        )
        ticket.refresh_from_db()
        assert ticket.assignee is None
        assert "The ticket is now unassigned." in _followed(client, response)

    def test_only_supervisors_and_administrators_see_the_select_of_other_agents(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        colleague = staff_create("colega@example.com", "Carla Colega", cast.soporte)
        ticket = open_ticket()
        assert 'id="assign-to"' not in html(login(cast.agent).get(page_url(ticket)))
        for boss in (cast.supervisor, cast.admin):
            page = html(login(boss).get(page_url(ticket)))
            select = page.split('id="assign-to"', 1)[1].split("</select>", 1)[0]
            assert f'value="{colleague.pk}"' in select
            assert f'value="{cast.agent.pk}"' in select
            assert f'value="{cast.agent_ops.pk}"' not in select

    def test_a_supervisor_assigns_another_agent_who_is_told_by_mail(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        client = login(cast.supervisor)
        response = post(
            client, ticket, "asignar", {"assignee": cast.agent.pk, "expected_assignee": 0}
        )
        ticket.refresh_from_db()
        assert ticket.assignee == cast.agent
        assert "The ticket is now assigned to Laura Agente." in _followed(client, response)
        mail = OutboxMessage.objects.get(template="staff_ticket_assigned")
        assert mail.to == cast.agent.email
        assert f"/consola/tickets/{ticket.reference}/" in mail.body_text

    def test_an_agent_cannot_assign_someone_else_even_by_forging_the_form(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        colleague = staff_create("colega@example.com", "Carla Colega", cast.soporte)
        ticket = open_ticket()
        client = login(cast.agent)
        response = post(
            client, ticket, "asignar", {"assignee": colleague.pk, "expected_assignee": 0}
        )
        assert "Only a supervisor can assign a ticket to someone else." in _followed(
            client, response
        )
        ticket.refresh_from_db()
        assert ticket.assignee is None
        assert not Event.objects.filter(ticket=ticket, kind=Event.Kind.ASSIGNED).exists()

    def test_assigning_an_agent_outside_the_department_says_so_and_applies_nothing(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        client = login(cast.supervisor)
        response = post(
            client, ticket, "asignar", {"assignee": cast.agent_ops.pk, "expected_assignee": 0}
        )
        assert "Omar Operaciones does not work in Soporte técnico." in _followed(client, response)
        ticket.refresh_from_db()
        assert ticket.assignee is None
        assert not Event.objects.filter(ticket=ticket, kind=Event.Kind.ASSIGNED).exists()
        assert not OutboxMessage.objects.filter(template="staff_ticket_assigned").exists()

    def test_assigning_a_customer_or_an_unknown_user_is_refused(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        client = login(cast.supervisor)
        for assignee in (cast.ana.pk, 999_999, "x"):
            response = post(
                client, ticket, "asignar", {"assignee": assignee, "expected_assignee": 0}
            )
            assert "Choose an active agent of the department." in _followed(client, response)
        ticket.refresh_from_db()
        assert ticket.assignee is None


class TestCollaborate:
    def test_join_and_leave(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        client = login(cast.agent)
        assert ">Collaborate</button>" in html(client.get(page_url(ticket)))
        response = post(client, ticket, "colaborar")
        assert list(ticket.collaborators.all()) == [cast.agent]
        page = _followed(client, response)
        assert "You collaborate on this ticket now." in page
        assert ">Stop collaborating</button>" in page
        response = post(client, ticket, "dejar")
        assert not ticket.collaborators.exists()
        assert "You no longer collaborate on this ticket." in _followed(client, response)
        assert Event.objects.filter(ticket=ticket, kind=Event.Kind.COLLABORATOR).count() == 2

    def test_a_supervisor_of_another_department_is_told_he_cannot_join(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(department=cast.operaciones)
        client = login(cast.supervisor)
        page = html(client.get(page_url(ticket)))
        assert ">Collaborate</button>" not in page
        assert ">Assign to me</button>" not in page
        response = post(client, ticket, "colaborar")
        assert "Sara Supervisora does not work in Operaciones." in _followed(client, response)
        assert not ticket.collaborators.exists()


class TestMove:
    def test_a_move_needs_a_reason_and_keeps_what_was_chosen(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        data = {"move-department": cast.operaciones.pk, "move-reason": "  "}
        response = post(login(cast.agent), ticket, "mover", data)
        page = html(response)
        assert response.status_code == 200
        assert "Say why the ticket moves to another department." in page
        assert f'<option value="{cast.operaciones.pk}" selected>' in page
        assert '<details class="move" open' in page
        ticket.refresh_from_db()
        assert ticket.department == cast.soporte

    def test_a_move_to_the_same_or_an_inactive_department_is_refused(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        cast.atencion.is_active = False
        cast.atencion.save()
        ticket = open_ticket()
        client = login(cast.supervisor)
        for department in (cast.soporte, cast.atencion):
            data = {"move-department": department.pk, "move-reason": "Porque sí"}
            page = html(post(client, ticket, "mover", data))
            assert "Choose one of the active departments." in page
            assert 'value="Porque sí"' in page
        ticket.refresh_from_db()
        assert ticket.department == cast.soporte

    def test_a_supervisor_moves_it_and_stays_on_the_ticket(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        client = login(cast.supervisor)
        data = {"move-department": cast.operaciones.pk, "move-reason": "Falla del servidor"}
        response = post(client, ticket, "mover", data)
        assert response["Location"] == page_url(ticket)
        ticket.refresh_from_db()
        assert ticket.department == cast.operaciones
        event = Event.objects.get(ticket=ticket, kind=Event.Kind.MOVED)
        assert event.reason == "Falla del servidor"
        page = _followed(client, response)
        assert f"Ticket {ticket.reference} moved to Operaciones." in page
        assert "Falla del servidor" in page

    def test_an_agent_who_moves_it_out_of_his_departments_goes_back_to_his_queue(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket()
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        client = login(cast.agent)
        data = {"move-department": cast.operaciones.pk, "move-reason": "Es de servidores"}
        response = post(client, ticket, "mover", data)
        assert response.status_code == 302
        assert response["Location"] == "/consola/"
        ticket.refresh_from_db()
        assert ticket.department == cast.operaciones
        assert ticket.assignee is None
        assert client.get(page_url(ticket)).status_code == 404


def test_the_move_select_lists_the_other_active_departments(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    page = html(login(cast.agent).get(page_url(open_ticket())))
    select = page.split('id="id_move-department"', 1)[1].split("</select>", 1)[0]
    assert f'value="{cast.operaciones.pk}"' in select
    assert f'value="{cast.atencion.pk}"' in select
    assert f'value="{cast.soporte.pk}"' not in select


def test_every_action_form_on_the_page_points_at_this_ticket(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket()
    page = html(login(cast.supervisor).get(page_url(ticket)))
    for action in ("asignar", "colaborar", "resolver", "cerrar", "mover", "responder", "nota"):
        assert f'action="{url(ticket, action)}"' in page, action
