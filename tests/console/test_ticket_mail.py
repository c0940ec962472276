"""The staff notifications the domain sends: each leads to the ticket in the console."""

from __future__ import annotations

from collections.abc import Callable

from atiende.accounts.models import User
from atiende.mail.models import OutboxMessage
from atiende.tickets import routing, services
from atiende.tickets.models import Ticket
from tests.conftest import Cast

OpenTicket = Callable[..., Ticket]


def _language(user: User, language: str) -> None:
    user.language = language
    user.save()


def test_an_agent_assigned_by_someone_else_gets_a_mail_with_the_console_link(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    _language(cast.agent, "en")
    ticket = open_ticket(subject="Sitio <caído>")
    routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.supervisor)
    mail = OutboxMessage.objects.get(template="staff_ticket_assigned")
    link = f"/consola/tickets/{ticket.reference}/"
    assert mail.to == cast.agent.email
    assert mail.subject == f"[#{ticket.reference}] Sitio <caído>"
    assert "Hello Laura Agente," in mail.body_text
    assert "Sara Supervisora assigned you a ticket of Soporte técnico." in mail.body_text
    assert "Ana Torres <ana@example.com>" in mail.body_text
    assert link in mail.body_text
    assert f'{link}" style' in mail.body_html
    assert "Sitio &lt;caído&gt;" in mail.body_html


def test_the_assignee_and_collaborators_hear_of_a_customer_reply(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket()
    routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
    routing.ticket_collaborator_add(
        ticket=ticket, collaborator=cast.supervisor, actor=cast.supervisor
    )
    services.ticket_reply(ticket=ticket, author=cast.beto, body="Sigue <sin> funcionar")
    rows = OutboxMessage.objects.filter(template="staff_customer_reply")
    assert {row.to for row in rows} == {cast.agent.email, cast.supervisor.email}
    for row in rows:
        assert ticket.reference in row.subject
        assert "Sigue <sin> funcionar" in row.body_text
        assert "Sigue &lt;sin&gt; funcionar" in row.body_html
        assert f"/consola/tickets/{ticket.reference}/" in row.body_text
        assert f"/consola/tickets/{ticket.reference}/" in row.body_html
