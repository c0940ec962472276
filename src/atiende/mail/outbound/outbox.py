"""Writing to the outbox, and delivering what waits in it.

`enqueue()` must run inside the transaction of the change that causes the mail: the row and
the change commit together or not at all. Delivery claims a row with a conditional UPDATE,
so any number of workers may deliver at once and no row is sent twice.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F

from atiende.core.clock import now
from atiende.mail.models import OutboxMessage
from atiende.mail.outbound.compose import compose

logger = logging.getLogger(__name__)


def enqueue(
    *,
    template: str,
    to: str,
    language: str,
    context: dict[str, Any],
    ticket: Any | None = None,
    reference: str | None = None,
) -> OutboxMessage:
    """Render a notification and store it, to be delivered once the transaction commits."""
    composed = compose(template=template, language=language, context=context, reference=reference)
    row = OutboxMessage.objects.create(
        template=template,
        to=to,
        subject=composed.subject,
        body_text=composed.body_text,
        body_html=composed.body_html,
        message_id=composed.message_id,
        headers=composed.headers,
        ticket=ticket,
    )
    transaction.on_commit(lambda: outbox_deliver_due(limit=20))
    return row


def outbox_deliver_one(row: OutboxMessage) -> bool:
    """Send one claimed row; returns whether the mail server accepted it."""
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
        headers={"Message-ID": row.message_id, **row.headers},
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    try:
        message.send()
    except Exception as error:  # any transport failure: keep the row for a later attempt
        logger.warning("outbox %s: delivery failed: %s", row.pk, error)
        OutboxMessage.objects.filter(pk=row.pk).update(
            status=OutboxMessage.Status.QUEUED, last_error=str(error)[:2000]
        )
        return False
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=OutboxMessage.Status.SENT, sent_at=now(), last_error=""
    )
    return True


def outbox_deliver_due(*, limit: int = 100) -> int:
    """Deliver queued rows that are due; returns how many the server accepted."""
    sent = 0
    due = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now()
    ).order_by("id")
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        claimed = OutboxMessage.objects.filter(pk=pk, status=OutboxMessage.Status.QUEUED).update(
            status=OutboxMessage.Status.SENDING, attempts=F("attempts") + 1
        )
        if not claimed:
            continue  # another worker took it
        row = OutboxMessage.objects.get(pk=pk)
        sent += outbox_deliver_one(row)
    return sent
