"""The index follows every write in the same transaction, whatever wrote it: a reply is found
once committed, a rolled-back one never; edits, attachments, bulk writes and deletions too."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from atiende.tickets import services
from atiende.tickets.models import ActorKind, Attachment, Message, Ticket
from tests.conftest import Cast
from tests.search.support import OpenTicket, found, hit_for, text_file


@pytest.mark.django_db(transaction=True)
class TestCommits:
    def test_a_reply_is_found_as_soon_as_it_is_committed(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Consulta")
        with transaction.atomic():
            services.ticket_reply(ticket=ticket, author=cast.agent, body="Reinicien el router")

        assert found(cast.ana, "router") == [ticket]

    def test_a_rolled_back_reply_is_never_found(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="Consulta")
        with pytest.raises(RuntimeError), transaction.atomic():
            services.ticket_reply(ticket=ticket, author=cast.agent, body="Palabrafantasma")
            assert found(cast.ana, "palabrafantasma") == [ticket]  # inside: visible
            raise RuntimeError

        assert found(cast.ana, "palabrafantasma") == []
        assert found(cast.ana, "consulta") == [ticket]


class TestOtherWrites:
    def test_an_edited_message_is_found_by_its_new_words_only(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Consulta", body="Texto original")
        Message.objects.filter(ticket=ticket).update(body="Texto corregido")

        assert found(cast.ana, "corregido") == [ticket]
        assert found(cast.ana, "original") == []

    def test_a_changed_subject(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="Asunto viejo", body="Hola")
        Ticket.objects.filter(pk=ticket.pk).update(subject="Asunto nuevo")

        assert found(cast.ana, "nuevo") == [ticket]
        assert found(cast.ana, "viejo") == []

    def test_attachments_renamed_moved_and_deleted(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(subject="Consulta", body="Hola", files=[text_file("plano.txt")])
        reply = services.ticket_reply(ticket=ticket, author=cast.ana, body="Otra cosa")
        attachment = Attachment.objects.get(message__ticket=ticket)

        Attachment.objects.filter(pk=attachment.pk).update(filename="boceto.txt")
        assert found(cast.ana, "plano") == []
        assert found(cast.ana, "boceto") == [ticket]

        Attachment.objects.filter(pk=attachment.pk).update(message=reply)
        assert found(cast.ana, "boceto") == [ticket]
        assert "<mark>boceto</mark>" in hit_for(cast.ana, "boceto", ticket).snippet

        Attachment.objects.filter(pk=attachment.pk).delete()
        assert found(cast.ana, "boceto") == []

    def test_messages_written_in_bulk_are_found(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket(subject="Consulta", body="Hola")
        Message.objects.bulk_create(
            Message(ticket=ticket, author_kind=ActorKind.SYSTEM, body=f"Importado {number}")
            for number in range(3)
        )

        assert found(cast.ana, "importado") == [ticket]

    def test_a_deleted_ticket_leaves_nothing_in_the_index(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        ticket = open_ticket(
            subject="Borrable", body="Mensaje borrable", files=[text_file("b.txt")]
        )
        ticket_id = ticket.pk
        message_ids = list(ticket.messages.values_list("pk", flat=True))
        ticket.delete()

        assert found(cast.ana, "borrable") == []
        assert index_rows(ticket_id, message_ids) == 0


def index_rows(ticket_id: int, message_ids: list[int]) -> int:
    """Rows the index still holds for a ticket and its messages (SQLite: FTS rows;
    PostgreSQL: the vectors live in the deleted rows themselves)."""
    if connection.vendor != "sqlite":
        return 0
    placeholders = ", ".join(["%s"] * len(message_ids))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM search_ticket_fts WHERE rowid = %s", [ticket_id])
        tickets = int(cursor.fetchone()[0])
        cursor.execute(
            f"SELECT COUNT(*) FROM search_message_fts WHERE rowid IN ({placeholders})",
            message_ids,
        )
        return tickets + int(cursor.fetchone()[0])
