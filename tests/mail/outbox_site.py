"""What the tests of the real worker run inside a site (`tests/services/site.py`).

`python -m tests.mail.outbox_site COMMAND [JSON]`, with the site's environment:

- `seed SPEC`: customers open tickets and an agent answers each, through the services, as in
  production (each commit asks the worker to deliver, unless `"kick": false`); prints the
  outbox rows.
- `rows`: prints the outbox rows, oldest first.
- `deliver`: one `outbox_deliver_due()`, as a worker's job runs it; prints how many were sent.

Rows are printed as a JSON list of objects (id, ticket, template, to, message_id, status,
attempts, last_error), ordered by id.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import django


def _rows() -> list[dict[str, Any]]:
    from atiende.mail.models import OutboxMessage

    return [
        {
            "id": row.pk,
            "ticket": row.ticket.reference if row.ticket else None,
            "template": row.template,
            "to": row.to,
            "message_id": row.message_id,
            "status": row.status,
            "attempts": row.attempts,
            "last_error": row.last_error,
        }
        for row in OutboxMessage.objects.select_related("ticket").order_by("pk")
    ]


def _seed(spec: dict[str, Any]) -> list[dict[str, Any]]:
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    from atiende.accounts.models import Account, Department, Membership, User
    from atiende.core.clock import now
    from atiende.jobs.tasks import outbox_kick
    from atiende.mail.outbound.outbox import outbox_enqueued
    from atiende.tickets.models import Attachment
    from atiende.tickets.services import ticket_open, ticket_reply

    if not spec.get("kick", True):
        outbox_enqueued.disconnect(outbox_kick, dispatch_uid="atiende.jobs.outbox_kick")
    tickets = int(spec.get("tickets", 3))
    emails = list(spec.get("customers", ["ana@example.com"]))
    missing_attachment_on = spec.get("missing_attachment_on")  # a ticket's index, or None

    soporte = Department.objects.get(slug="soporte-tecnico")
    account = Account.objects.create(name="Hosting Ejemplo S.A.")
    customers = [
        User.objects.create_user(
            email,
            None,
            account=account,
            full_name=f"Cliente {i}",
            email_confirmed_at=now(),
            language="es",
        )
        for i, email in enumerate(emails)
    ]
    agent = User.objects.create_user(
        "agente@example.com",
        None,
        is_staff=True,
        full_name="Laura Agente",
        email_confirmed_at=now(),
    )
    Membership.objects.create(user=agent, department=soporte, role="agent")

    opened = [
        ticket_open(
            customer=customers[i % len(customers)],
            department=soporte,
            subject=f"Consulta {i + 1}",
            body=f"Mensaje del cliente número {i + 1}.",
        )
        for i in range(tickets)
    ]
    if spec.get("reply", True):
        for i, ticket in enumerate(opened):
            files = []
            if i == missing_attachment_on:
                files = [SimpleUploadedFile("factura.pdf", b"%PDF-1.4 factura", "application/pdf")]
            message = ticket_reply(
                ticket=ticket, author=agent, body=f"Respuesta {i + 1}.", files=files
            )
            for attachment in Attachment.objects.filter(message=message):
                default_storage.delete(str(attachment.file.name))  # lost from storage
    return _rows()


def _deliver() -> dict[str, int]:
    from atiende.mail.outbound.outbox import outbox_deliver_due

    return {"sent": outbox_deliver_due()}


def main(argv: list[str]) -> None:
    django.setup()
    command = argv[0]
    spec: dict[str, Any] = json.loads(argv[1]) if len(argv) > 1 else {}
    if command == "seed":
        result: Any = _seed(spec)
    elif command == "rows":
        result = _rows()
    elif command == "deliver":
        result = _deliver()
    else:
        raise SystemExit(f"unknown command {command!r}")
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
