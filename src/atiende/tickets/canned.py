"""Canned replies: a department's prepared answers, filled in for one ticket."""

from __future__ import annotations

import re

from django.db.models import QuerySet

from atiende.accounts.models import User
from atiende.tickets.models import CannedReply, Ticket

_PLACEHOLDER = re.compile(r"\{(customer_name|ticket_id|agent_name|subject|department)\}")


def canned_reply_list_for_ticket(*, ticket: Ticket) -> QuerySet[CannedReply]:
    return CannedReply.objects.filter(department_id=ticket.department_id, is_active=True).order_by(
        "title"
    )


def canned_reply_render(*, canned: CannedReply, ticket: Ticket, agent: User) -> str:
    """The text with its placeholders filled; unknown braces are left as written."""
    values = {
        "customer_name": ticket.customer.display_name,
        "ticket_id": ticket.reference,
        "agent_name": agent.display_name,
        "subject": ticket.subject,
        "department": ticket.department.name,
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], canned.body)
