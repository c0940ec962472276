"""Threading: which ticket, if any, a received message answers.

Reads only. The candidates, strongest first:

1. In-Reply-To: the message it answers directly;
2. the subject: a ticket ID in any form a mail client or a person leaves (`Re: RE: [#ATN-...]`,
   lower case, spaces or no dashes inside the ID, the look-alikes O/0 and I/L/1);
3. References, newest first: the rest of the conversation.

A Message-ID names a ticket when it is the ticket's thread root (`<ticket.<id>@our domain>`),
a message we sent about the ticket (the outbox), or a message we received that went into it.
Naming a ticket is not permission to write in it: `authorize` checks the sender against the
account that owns the ticket.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings

from atiende.core.references import reference_normalize, reference_pattern
from atiende.mail.inbound.types import ParsedMessage
from atiende.mail.models import InboundMessage, OutboxMessage
from atiende.tickets.models import Ticket

# A message can name thousands of references; the last ones are the conversation that matters.
MESSAGE_IDS_CONSIDERED = 50
_ROOT = re.compile(r"<ticket\.([^@<>\s]{1,40})@([^<>\s]+)>", re.IGNORECASE)


def _ticket(reference: str | None) -> Ticket | None:
    if not reference:
        return None
    return (
        Ticket.objects.select_related("account", "department").filter(reference=reference).first()
    )


def ticket_for_subject(subject: str) -> Ticket | None:
    """The first ticket whose ID appears in the subject."""
    for match in reference_pattern().finditer(subject or ""):
        ticket = _ticket(reference_normalize(match.group(0)))
        if ticket is not None:
            return ticket
    return None


def _root_reference(message_id: str) -> str | None:
    match = _ROOT.fullmatch(message_id)
    if match is None or match.group(2).lower() != settings.ATIENDE_MAIL_DOMAIN.lower():
        return None
    return reference_normalize(match.group(1))


def tickets_for_message_ids(message_ids: Iterable[str]) -> dict[str, int]:
    """Ticket ids by the Message-IDs (of `message_ids`) that name a ticket; three queries."""
    wanted = [message_id.strip() for message_id in message_ids if message_id.strip()]
    found: dict[str, int] = {}
    roots = {message_id: _root_reference(message_id) for message_id in wanted}
    references = {reference for reference in roots.values() if reference}
    if references:
        by_reference = dict(
            Ticket.objects.filter(reference__in=references).values_list("reference", "pk")
        )
        for message_id, reference in roots.items():
            if reference in by_reference:
                found[message_id] = by_reference[reference]
    rest = [message_id for message_id in wanted if message_id not in found]
    if rest:
        found.update(
            OutboxMessage.objects.filter(message_id__in=rest, ticket__isnull=False).values_list(
                "message_id", "ticket_id"
            )
        )
        rest = [message_id for message_id in rest if message_id not in found]
    if rest:
        received = (
            InboundMessage.objects.filter(message_id__in=rest, ticket__isnull=False)
            .filter(
                outcome__in=[
                    InboundMessage.Outcome.TICKET,
                    InboundMessage.Outcome.REPLY,
                    InboundMessage.Outcome.ACCEPTED,
                ]
            )
            .order_by("received_at", "id")
            .values_list("message_id", "ticket_id")
        )
        for message_id, ticket_id in received:
            if ticket_id is not None:
                found.setdefault(message_id, ticket_id)
    return found


def ticket_for_reply(parsed: ParsedMessage) -> Ticket | None:
    """The ticket the message answers, or None for a new matter (see the module docstring)."""
    in_reply_to = list(parsed.in_reply_to[-MESSAGE_IDS_CONSIDERED:])
    references = list(reversed(parsed.references[-MESSAGE_IDS_CONSIDERED:]))
    named = tickets_for_message_ids([*in_reply_to, *references])
    for message_id in in_reply_to:
        if message_id.strip() in named:
            return _ticket_by_pk(named[message_id.strip()])
    by_subject = ticket_for_subject(parsed.subject)
    if by_subject is not None:
        return by_subject
    for message_id in references:
        if message_id.strip() in named:
            return _ticket_by_pk(named[message_id.strip()])
    return None


def _ticket_by_pk(pk: int) -> Ticket | None:
    return Ticket.objects.select_related("account", "department").filter(pk=pk).first()
