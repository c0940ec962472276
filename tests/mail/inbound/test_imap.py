"""The mailbox poller against a real Dovecot, through the real inbound pipeline.

Messages are put in with IMAP APPEND, as a mail server's delivery would put them; flags are
read back over IMAP. Nothing here sleeps: the poller's clock is moved with time-machine, and
threads meet at a barrier.
"""

from __future__ import annotations

import email.policy
import imaplib
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from typing import Any

import pytest
from django.db import IntegrityError, OperationalError, connection
from time_machine import TimeMachineFixture

from atiende.accounts.models import AuthorizedAddress
from atiende.jobs import schedule
from atiende.mail.inbound import imap as poller
from atiende.mail.inbound.imap import (
    FAILED_KEYWORD,
    PollResult,
    imap_utf7,
    mailbox_claim,
    mailbox_poll,
    mailboxes_poll_due,
)
from atiende.mail.inbound.ingest import inbound_receive
from atiende.mail.models import InboundMessage, Mailbox, OutboxMessage
from atiende.mail.outbound.outbox import outbox_deliver_due
from atiende.tickets.models import Message, Ticket
from atiende.tickets.services import ticket_reply
from tests.conftest import Cast
from tests.mail.inbound.conftest import UTF8_PASSWORD, UTF8_USER
from tests.services.common import free_port
from tests.services.dovecot import USER, DovecotServer
from tests.services.smtp import SmtpServer

SEEN = "\\Seen"
START = datetime.fromisoformat("2025-03-03T15:00:00+00:00")
OpenTicket = Callable[..., Ticket]


def mail(
    subject: str,
    body: str = "Desde ayer el sitio ejemplo.mx muestra un error 500.",
    *,
    sender: str = "Ana Torres <ana@example.com>",
) -> bytes:
    """A message as a customer's mail client sends it (each one unique by its Message-ID)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = USER
    message["Subject"] = subject
    message["Date"] = format_datetime(START)
    message["Message-ID"] = make_msgid(domain="cliente.example.com")
    message.set_content(body)
    return message.as_bytes(policy=email.policy.SMTP)


def subject_of(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"])


def seen(imap: DovecotServer) -> dict[int, bool]:
    return {uid: SEEN in flags for uid, flags in imap.flags().items()}


def reload(mailbox: Mailbox) -> Mailbox:
    return Mailbox.objects.select_related("department").get(pk=mailbox.pk)


def tickets_by_subject() -> dict[str, Ticket]:
    return {ticket.subject: ticket for ticket in Ticket.objects.select_related("department")}


class WorkerKilled(BaseException):
    """Stands for the worker dying: nothing in the poller catches it."""


@pytest.fixture
def clock(time_machine: TimeMachineFixture) -> TimeMachineFixture:
    time_machine.move_to(START, tick=False)
    return time_machine


# --- bringing mail in ---------------------------------------------------------------------------


class TestPoll:
    def test_unseen_mail_opens_tickets_in_the_mailbox_department_and_is_marked_seen(
        self, cast: Cast, mailbox: Mailbox, imap: DovecotServer, clock: TimeMachineFixture
    ) -> None:
        AuthorizedAddress.objects.create(
            account=cast.account, email="facturas@ejemplo.mx", confirmed_at=START
        )
        already_read = imap.append(mail("Leído en el webmail"), flags=[SEEN])
        from_login = imap.append(mail("Mi sitio no carga"))
        from_address = imap.append(
            mail("No me llegan correos", sender="Facturas <facturas@ejemplo.mx>")
        )
        from_stranger = imap.append(mail("Hola", sender="Nadie <nadie@desconocido.example>"))

        result = mailbox_poll(mailbox=mailbox)

        assert result == PollResult(mailbox.pk, found=3, received=3, marked=3)
        tickets = tickets_by_subject()
        assert set(tickets) == {"Mi sitio no carga", "No me llegan correos"}
        for ticket in tickets.values():
            assert ticket.account == cast.account
            assert ticket.department == cast.soporte
            assert ticket.customer == cast.ana  # the holder acts for an authorized address
            receipt = OutboxMessage.objects.get(template="ticket_receipt", ticket=ticket)
            assert receipt.to == "ana@example.com"
            assert f"[#{ticket.reference}]" in receipt.subject
        outcomes = {row.subject: row for row in InboundMessage.objects.all()}
        assert {subject: row.outcome for subject, row in outcomes.items()} == {
            "Mi sitio no carga": InboundMessage.Outcome.TICKET,
            "No me llegan correos": InboundMessage.Outcome.TICKET,
            "Hola": InboundMessage.Outcome.QUARANTINED,  # taken too: it waits for staff
        }
        assert {row.channel for row in outcomes.values()} == {InboundMessage.Channel.IMAP}
        assert {row.department_id for row in outcomes.values()} == {cast.soporte.pk}
        assert seen(imap) == {
            already_read: True,  # and never fetched
            from_login: True,
            from_address: True,
            from_stranger: True,
        }
        stored = reload(mailbox)
        assert stored.last_polled_at == START
        assert stored.last_error == ""

        assert mailbox_poll(mailbox=mailbox) == PollResult(mailbox.pk)  # nothing new
        assert InboundMessage.objects.count() == 3

    def test_a_poll_takes_at_most_limit_messages_oldest_first(
        self, mailbox: Mailbox, imap: DovecotServer
    ) -> None:
        uids = [imap.append(mail(f"Mensaje {n}")) for n in range(3)]

        assert mailbox_poll(mailbox=mailbox, limit=2) == PollResult(
            mailbox.pk, found=3, received=2, marked=2
        )
        assert seen(imap) == {uids[0]: True, uids[1]: True, uids[2]: False}
        assert set(tickets_by_subject()) == {"Mensaje 0", "Mensaje 1"}

        assert mailbox_poll(mailbox=mailbox, limit=2).received == 1
        assert set(tickets_by_subject()) == {"Mensaje 0", "Mensaje 1", "Mensaje 2"}

    def test_a_crash_between_ingest_and_the_flag_fetches_it_again_without_a_duplicate(
        self, mailbox: Mailbox, imap: DovecotServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        uid = imap.append(mail("Mi sitio no carga"))
        real_mark_seen = poller._mark_seen
        monkeypatch.setattr(poller, "_mark_seen", _raise(WorkerKilled("killed after ingest")))

        with pytest.raises(WorkerKilled):
            mailbox_poll(mailbox=mailbox)

        ticket = Ticket.objects.get()  # the ingest committed ...
        assert seen(imap) == {uid: False}  # ... the flag never came
        monkeypatch.setattr(poller, "_mark_seen", real_mark_seen)

        result = mailbox_poll(mailbox=mailbox)

        assert result.received == 1  # fetched again: the dedupe took it
        assert seen(imap) == {uid: True}
        assert InboundMessage.objects.count() == 1
        assert Ticket.objects.get() == ticket
        assert OutboxMessage.objects.filter(template="ticket_receipt").count() == 1

    @pytest.mark.parametrize(
        "error", [RuntimeError("a bug"), IntegrityError("a constraint")], ids=["bug", "db-row"]
    )
    def test_a_message_that_fails_does_not_block_the_ones_behind_it(
        self,
        mailbox: Mailbox,
        imap: DovecotServer,
        monkeypatch: pytest.MonkeyPatch,
        error: Exception,
    ) -> None:
        failing = imap.append(mail("Este falla"))
        good = imap.append(mail("Este pasa"))
        real_receive = inbound_receive

        def receive(*, raw: bytes, **kwargs: Any) -> InboundMessage:
            if subject_of(raw) == "Este falla":
                raise error
            return real_receive(raw=raw, **kwargs)

        monkeypatch.setattr(poller, "inbound_receive", receive)

        result = mailbox_poll(mailbox=mailbox)

        assert result == PollResult(mailbox.pk, found=2, received=1, marked=1, failed=1)
        assert set(tickets_by_subject()) == {"Este pasa"}
        flags = imap.flags()
        assert SEEN in flags[good]
        assert SEEN not in flags[failing]
        assert FAILED_KEYWORD in flags[failing]
        assert reload(mailbox).last_error == ""  # the mailbox is fine; the message is logged

        # Fresh mail goes before the one that failed: it cannot hold every place of a poll.
        fresh = imap.append(mail("Llegó después"))
        assert mailbox_poll(mailbox=mailbox, limit=1).received == 1
        assert seen(imap) == {failing: False, good: True, fresh: True}

        monkeypatch.setattr(poller, "inbound_receive", real_receive)  # the bug is fixed
        assert mailbox_poll(mailbox=mailbox).received == 1
        assert seen(imap) == {failing: True, good: True, fresh: True}
        assert set(tickets_by_subject()) == {"Este falla", "Este pasa", "Llegó después"}

    def test_a_message_the_server_will_not_give_does_not_block_the_ones_behind_it(
        self, mailbox: Mailbox, imap: DovecotServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        broken = imap.append(mail("Dañado en el servidor"))
        good = imap.append(mail("Mi sitio no carga"))
        real_uid = imaplib.IMAP4.uid

        def uid(client: imaplib.IMAP4, command: str, *args: str) -> tuple[str, list[Any]]:
            if command == "FETCH" and args[0] == str(broken):
                return "NO", [b"[SERVERBUG] Internal error occurred."]
            return real_uid(client, command, *args)

        monkeypatch.setattr(imaplib.IMAP4, "uid", uid)

        result = mailbox_poll(mailbox=mailbox)

        assert result == PollResult(mailbox.pk, found=2, received=1, marked=1, failed=1)
        assert set(tickets_by_subject()) == {"Mi sitio no carga"}
        monkeypatch.undo()
        flags = imap.flags()
        assert SEEN in flags[good]
        assert SEEN not in flags[broken]
        assert FAILED_KEYWORD in flags[broken]

    def test_a_database_outage_stops_the_poll_and_marks_nothing(
        self, mailbox: Mailbox, imap: DovecotServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        uids = [imap.append(mail(f"Mensaje {n}")) for n in range(2)]
        calls: list[bytes] = []

        def receive(*, raw: bytes, **kwargs: Any) -> InboundMessage:
            calls.append(raw)
            raise OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr(poller, "inbound_receive", receive)
        monkeypatch.setattr(poller, "_database_available", lambda: False)

        with pytest.raises(OperationalError):
            mailbox_poll(mailbox=mailbox)

        assert len(calls) == 1  # stopped at the first
        assert seen(imap) == dict.fromkeys(uids, False)
        assert all(FAILED_KEYWORD not in flags for flags in imap.flags().values())

    def test_a_message_expunged_since_the_search_is_skipped(
        self, mailbox: Mailbox, imap: DovecotServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        gone = imap.append(mail("Borrado por otro cliente"))
        kept = imap.append(mail("Mi sitio no carga"))
        real_unseen = poller._unseen

        def unseen(client: imaplib.IMAP4, limit: int) -> tuple[int, list[bytes]]:
            found = real_unseen(client, limit)
            with imap.client() as other:  # another mail client deletes it meanwhile
                other.select("INBOX")
                other.uid("STORE", str(gone), "+FLAGS.SILENT", "(\\Deleted)")
                other.expunge()
            return found

        monkeypatch.setattr(poller, "_unseen", unseen)

        result = mailbox_poll(mailbox=mailbox)

        assert (result.found, result.received, result.error) == (2, 1, "")
        assert seen(imap) == {kept: True}

    def test_a_too_large_message_is_read_only_up_to_the_size_limit(
        self,
        settings: Any,
        mailbox: Mailbox,
        imap: DovecotServer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        settings.ATIENDE_MAIL_MAX_MB = 1
        uid = imap.append(mail("Adjunto enorme", ("x" * 76 + "\n") * (2 * 1024 * 1024 // 77)))
        received: list[bytes] = []

        def receive(*, raw: bytes, **kwargs: Any) -> None:
            received.append(raw)

        monkeypatch.setattr(poller, "inbound_receive", receive)

        assert mailbox_poll(mailbox=mailbox).marked == 1

        assert [len(raw) for raw in received] == [1024 * 1024 + 1]
        assert seen(imap) == {uid: True}


def _raise(error: BaseException) -> Callable[..., None]:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise error

    return fail


# --- connections, logins, folders -------------------------------------------------------------


class TestServer:
    def test_a_wrong_password_is_recorded_on_the_mailbox_and_raises_nothing(
        self, mailbox: Mailbox, imap: DovecotServer
    ) -> None:
        uid = imap.append(mail("Mi sitio no carga"))
        mailbox.password = "not-the-password"
        mailbox.save()

        result = mailbox_poll(mailbox=mailbox)

        assert not result.ok
        stored = reload(mailbox)
        assert stored.last_error.startswith(f"logging in as {USER}: ")
        assert "Authentication failed" in stored.last_error
        assert "not-the-password" not in stored.last_error
        assert stored.last_polled_at is None
        assert seen(imap) == {uid: False}
        assert not Ticket.objects.exists()

        stored.password = imap.passwords[USER]
        stored.save()
        assert mailbox_poll(mailbox=stored).received == 1
        assert reload(mailbox).last_error == ""

    def test_a_server_that_does_not_answer_is_recorded(self, mailbox: Mailbox) -> None:
        mailbox.port = free_port()  # nobody listens there
        mailbox.save()

        result = mailbox_poll(mailbox=mailbox)

        assert result.error.startswith(f"connecting to 127.0.0.1:{mailbox.port} (none): ")
        assert reload(mailbox).last_error == result.error

    def test_a_server_that_stops_answering_times_out_and_is_recorded(
        self, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(poller, "TIMEOUT_SECONDS", 0.3)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen()  # the kernel accepts; nobody ever says "* OK"
            mailbox.port = silent.getsockname()[1]
            mailbox.save()

            result = mailbox_poll(mailbox=mailbox)

        assert result.error.startswith(f"connecting to 127.0.0.1:{mailbox.port} (none): ")
        assert "timed out" in result.error
        assert reload(mailbox).last_error == result.error

    def test_a_missing_folder_is_recorded(self, mailbox: Mailbox) -> None:
        mailbox.folder = "No existe"
        mailbox.save()

        result = mailbox_poll(mailbox=mailbox)

        assert result.error.startswith("opening the folder No existe: ")
        assert reload(mailbox).last_error == result.error

    def test_a_folder_with_spaces_and_accents_and_a_non_ascii_password(
        self, mailbox: Mailbox, imap: DovecotServer
    ) -> None:
        username = UTF8_USER
        imap.empty(username=username)
        folder = imap_utf7("Soporte técnico")
        assert folder == "Soporte t&AOk-cnico"
        imap.folder_create(f'"{folder}"', username=username)
        uid = imap.append(mail("Mi sitio no carga"), username=username, folder=f'"{folder}"')
        mailbox.username, mailbox.password = username, UTF8_PASSWORD
        mailbox.folder = "Soporte técnico"
        mailbox.save()

        assert mailbox_poll(mailbox=mailbox).received == 1

        assert SEEN in imap.flags(username=username, folder=f'"{folder}"')[uid]

    @pytest.mark.parametrize("security", ["tls", "starttls"])
    def test_tls_and_starttls_with_a_trusted_certificate(
        self,
        mailbox: Mailbox,
        imap: DovecotServer,
        monkeypatch: pytest.MonkeyPatch,
        security: str,
    ) -> None:
        # The system's CAs are replaced by the test CA: the poller's context is Python's
        # default one, which honours SSL_CERT_FILE.
        monkeypatch.setenv("SSL_CERT_FILE", str(imap.ca_file))
        imap.append(mail("Mi sitio no carga"))
        mailbox.security = security
        mailbox.port = imap.tls_port if security == "tls" else imap.port
        mailbox.save()

        assert mailbox_poll(mailbox=mailbox) == PollResult(
            mailbox.pk, found=1, received=1, marked=1
        )

    @pytest.mark.parametrize("security", ["tls", "starttls"])
    def test_a_certificate_nobody_vouches_for_is_refused(
        self,
        mailbox: Mailbox,
        imap: DovecotServer,
        monkeypatch: pytest.MonkeyPatch,
        security: str,
    ) -> None:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system's CAs only
        imap.append(mail("Mi sitio no carga"))
        mailbox.security = security
        mailbox.port = imap.tls_port if security == "tls" else imap.port
        mailbox.save()

        result = mailbox_poll(mailbox=mailbox)

        assert "CERTIFICATE_VERIFY_FAILED" in result.error
        assert not Ticket.objects.exists()

    def test_control_characters_in_the_settings_never_reach_the_server(
        self, mailbox: Mailbox, imap: DovecotServer
    ) -> None:
        imap.append(mail("Mi sitio no carga"))
        mailbox.password = 'secret"\r\nA1 DELETE INBOX'
        mailbox.save()

        result = mailbox_poll(mailbox=mailbox)

        assert result.error.endswith("the password contains control characters")
        assert len(imap.flags()) == 1


# --- the periodic job, and several workers ----------------------------------------------------


class TestDue:
    def test_a_mailbox_is_polled_again_once_its_interval_passed(
        self, mailbox: Mailbox, imap: DovecotServer, clock: TimeMachineFixture
    ) -> None:
        mailbox.poll_seconds = 300
        mailbox.save()

        assert [result.mailbox_id for result in mailboxes_poll_due()] == [mailbox.pk]
        assert reload(mailbox).last_polled_at == START

        clock.move_to(START + timedelta(seconds=299), tick=False)
        imap.append(mail("Mi sitio no carga"))
        assert mailboxes_poll_due() == []
        assert not Ticket.objects.exists()

        clock.move_to(START + timedelta(seconds=300), tick=False)
        assert [result.received for result in mailboxes_poll_due()] == [1]

    def test_an_inactive_mailbox_is_never_polled(
        self, mailbox: Mailbox, imap: DovecotServer
    ) -> None:
        imap.append(mail("Mi sitio no carga"))
        mailbox.is_active = False
        mailbox.save()

        assert mailboxes_poll_due() == []
        assert not mailbox_claim(mailbox.pk)
        assert not Ticket.objects.exists()

    def test_a_mailbox_is_claimed_once(self, mailbox: Mailbox, clock: TimeMachineFixture) -> None:
        assert mailbox_claim(mailbox.pk)
        assert not mailbox_claim(mailbox.pk)  # another worker, a moment later
        assert reload(mailbox).last_polled_at == START

    def test_one_mailbox_that_fails_does_not_keep_the_others_waiting(
        self,
        cast: Cast,
        mailbox: Mailbox,
        imap: DovecotServer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        broken = Mailbox.objects.create(
            department=cast.atencion,
            host=imap.host,
            port=imap.port,
            security=Mailbox.Security.NONE,
            username=USER,
            password="wrong",
        )
        imap.append(mail("Mi sitio no carga"))

        results = {result.mailbox_id: result for result in mailboxes_poll_due()}

        assert results[mailbox.pk].received == 1
        assert "Authentication failed" in results[broken.pk].error
        assert "Authentication failed" in reload(broken).last_error

    def test_the_periodic_job_polls_the_due_mailboxes(
        self, mailbox: Mailbox, imap: DovecotServer
    ) -> None:
        uid = imap.append(mail("Mi sitio no carga"))

        schedule.mailboxes_poll_periodic_task.call_local()

        assert Ticket.objects.get().subject == "Mi sitio no carga"
        assert seen(imap) == {uid: True}


@pytest.fixture
def in_threads() -> Iterator[Callable[[Callable[[], object], int], list[object]]]:
    """Run a function in `count` threads that start together; their results (or errors)."""

    def run(function: Callable[[], object], count: int) -> list[object]:
        barrier = threading.Barrier(count)
        results: list[object] = []

        def worker() -> None:
            try:
                barrier.wait(timeout=10)
                results.append(function())
            except BaseException as error:  # reported to the test, not lost in the thread
                results.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
        return results

    yield run


class TestWorkers:
    def test_two_workers_at_once_poll_a_mailbox_once(
        self,
        transactional_db: None,
        mailbox: Mailbox,
        imap: DovecotServer,
        in_threads: Callable[[Callable[[], object], int], list[object]],
    ) -> None:
        uids = [imap.append(mail(f"Mensaje {n}")) for n in range(3)]

        results = in_threads(mailboxes_poll_due, 2)

        assert not [error for error in results if isinstance(error, BaseException)]
        polls = [poll for batch in results for poll in batch]  # type: ignore[attr-defined]
        assert [(poll.mailbox_id, poll.received) for poll in polls] == [(mailbox.pk, 3)]
        assert InboundMessage.objects.count() == 3
        assert Ticket.objects.count() == 3
        assert seen(imap) == dict.fromkeys(uids, True)

    def test_two_polls_of_one_mailbox_at_once_ingest_each_message_once(
        self,
        transactional_db: None,
        mailbox: Mailbox,
        imap: DovecotServer,
        in_threads: Callable[[Callable[[], object], int], list[object]],
    ) -> None:
        # Without the claim (an administrator's "poll now" beside the job, say): the dedupe
        # alone must hold.
        uids = [imap.append(mail(f"Mensaje {n}")) for n in range(4)]

        results = in_threads(lambda: mailbox_poll(mailbox=reload(mailbox)), 2)

        assert not [error for error in results if isinstance(error, BaseException)]
        assert all(isinstance(result, PollResult) and result.ok for result in results)
        assert InboundMessage.objects.count() == 4
        assert Ticket.objects.count() == 4
        assert OutboxMessage.objects.filter(template="ticket_receipt").count() == 4
        assert seen(imap) == dict.fromkeys(uids, True)


# --- the round trip: our notification, the customer's Reply ---------------------------------


def reply_to(notification: EmailMessage, text: str, *, sender: str) -> bytes:
    """What a mail client's *Reply* makes of our notification: "Re: " subject, threading
    headers, and the original quoted below an "El ... escribió:" line."""
    original = notification.get_body(preferencelist=("plain",))
    assert original is not None
    quoted = "\n".join(f"> {line}" if line else ">" for line in original.get_content().splitlines())
    sent = parsedate_to_datetime(str(notification["Date"]))
    message = EmailMessage()
    message["From"] = sender
    message["To"] = str(notification["From"])
    message["Subject"] = f"Re: {notification['Subject']}"
    message["Date"] = format_datetime(sent + timedelta(minutes=5))
    message["Message-ID"] = make_msgid(domain="cliente.example.com")
    message["In-Reply-To"] = str(notification["Message-ID"])
    references = str(notification["References"] or "").split()
    message["References"] = " ".join([*references, str(notification["Message-ID"])])
    message.set_content(
        f"{text}\n\nEl {sent:%d/%m/%Y} a las {sent:%H:%M}, {notification['From']} escribió:\n"
        f"{quoted}\n"
    )
    return message.as_bytes(policy=email.policy.SMTP)


class TestRoundTrip:
    def test_a_reply_to_our_notification_lands_on_its_ticket_without_the_quote(
        self,
        cast: Cast,
        open_ticket: OpenTicket,
        smtp_mail: SmtpServer,
        mailbox: Mailbox,
        imap: DovecotServer,
    ) -> None:
        ticket = open_ticket(customer=cast.ana, subject="Mi sitio no carga")
        ticket_reply(ticket=ticket, author=cast.agent, body="Ya lo revisamos; pruebe de nuevo.")
        row = OutboxMessage.objects.get(template="ticket_staff_reply", ticket=ticket)
        assert outbox_deliver_due() >= 1
        received = next(item for item in smtp_mail.received if item.message_id == row.message_id)
        notification = received.message
        assert "ana@example.com" in received.rcpt_tos

        uid = imap.append(
            reply_to(notification, "Gracias, ya funciona.", sender="Ana Torres <ana@example.com>")
        )
        assert mailbox_poll(mailbox=mailbox).received == 1

        assert seen(imap) == {uid: True}
        assert Ticket.objects.count() == 1
        ticket.refresh_from_db()
        assert ticket.status == "open"  # the customer answered: staff must act
        last = Message.objects.filter(ticket=ticket).latest("created_at", "id")
        assert last.author == cast.ana
        assert last.channel == "email"
        assert last.body.strip() == "Gracias, ya funciona."
        assert "Ya lo revisamos" in last.quoted
        inbound = InboundMessage.objects.get()
        assert (inbound.outcome, inbound.ticket) == (InboundMessage.Outcome.REPLY, ticket)
