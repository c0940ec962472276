"""The auto-close rule: a ticket that waits on the customer and hears nothing closes by itself.

Pendiente after a public staff reply, or Resuelto: the department's hours (72 by default)
count from that reply or resolution; any customer message cancels them. The sweep reminds
first when the department asks for it, then closes, records it, and tells the customer.
Time is moved with time-machine, never slept.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from time_machine import TimeMachineFixture

from atiende.accounts.models import Department
from atiende.mail.models import OutboxMessage
from atiende.tickets import services
from atiende.tickets.automation import SweepResult, auto_close_sweep
from atiende.tickets.lifecycle import Action, Status
from atiende.tickets.models import ActorKind, Event, Ticket
from tests.conftest import Cast

OpenTicket = Callable[..., Ticket]

# A Monday afternoon in UTC; every test starts its clock here.
START = datetime(2025, 3, 3, 16, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock(time_machine: TimeMachineFixture) -> TimeMachineFixture:
    time_machine.move_to(START, tick=False)
    return time_machine


def _at(clock: TimeMachineFixture, **delta: float) -> None:
    """Move the clock to START + delta."""
    clock.move_to(START + timedelta(**delta), tick=False)


def _sweep_at(clock: TimeMachineFixture, **delta: float) -> SweepResult:
    _at(clock, **delta)
    return auto_close_sweep()


def _department(department: Department, **policy: int | None) -> None:
    for name, value in policy.items():
        setattr(department, name, value)
    department.save()


def _pending(cast: Cast, open_ticket: OpenTicket) -> Ticket:
    """A ticket Laura answered publicly at the current time: it waits on Ana."""
    ticket = open_ticket()
    services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Puede probar de nuevo?")
    assert ticket.status == Status.PENDING
    return ticket


def _status(ticket: Ticket) -> str:
    ticket.refresh_from_db()
    return ticket.status


def _system_events(ticket: Ticket) -> list[Event]:
    return list(
        Event.objects.filter(ticket=ticket, kind=Event.Kind.STATUS, actor_kind=ActorKind.SYSTEM)
    )


def _notices(template: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=template).order_by("id"))


class TestPendingWithoutAnswer:
    def test_71_hours_later_nothing_closes(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = _pending(cast, open_ticket)
        assert _sweep_at(clock, hours=71) == SweepResult(reminded=0, closed=0)
        assert _status(ticket) == Status.PENDING
        assert not _system_events(ticket)
        assert not _notices("ticket_auto_closed")

    def test_72_hours_and_a_minute_later_it_is_resolved_then_closed_by_the_system(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = _pending(cast, open_ticket)
        assert _sweep_at(clock, hours=72, minutes=1).closed == 1

        assert _status(ticket) == Status.CLOSED
        assert ticket.auto_close_at is None
        assert ticket.reminder_at is None
        resolved, closed = _system_events(ticket)
        assert (resolved.action, resolved.old_status, resolved.new_status) == (
            Action.SYSTEM_AUTO_RESOLVE,
            Status.PENDING,
            Status.RESOLVED,
        )
        assert (closed.action, closed.old_status, closed.new_status) == (
            Action.SYSTEM_AUTO_CLOSE,
            Status.RESOLVED,
            Status.CLOSED,
        )
        for event in (resolved, closed):
            assert event.actor is None
            assert event.actor_kind == ActorKind.SYSTEM
            # The reason is stored in the site's language; the hours are in it either way.
            assert "72" in event.reason
        assert resolved.reason == closed.reason

        [notice] = _notices("ticket_auto_closed")
        assert notice.to == cast.ana.email
        assert notice.ticket_id == ticket.pk
        assert "72" in notice.body_text
        assert f"{settings.SITE_URL}/tickets/{ticket.reference}/" in notice.body_text

    def test_a_second_sweep_does_nothing_more(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = _pending(cast, open_ticket)
        assert _sweep_at(clock, hours=72, minutes=1).closed == 1
        assert _sweep_at(clock, hours=72, minutes=2) == SweepResult(reminded=0, closed=0)
        assert _sweep_at(clock, days=30) == SweepResult(reminded=0, closed=0)
        assert len(_system_events(ticket)) == 2
        assert len(_notices("ticket_auto_closed")) == 1

    def test_the_notice_says_it_was_waiting_on_him_in_his_language(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        cast.ana.language = "en"
        cast.ana.save()
        _pending(cast, open_ticket)
        _sweep_at(clock, hours=73)
        [notice] = _notices("ticket_auto_closed")
        assert notice.body_text.startswith("Hello Ana Torres,\n\nWe closed your ticket because")
        assert "we received no answer within 72 hours." in notice.body_text
        assert "Our last reply was waiting for your answer" in notice.body_text
        assert "Nothing is lost" in notice.body_text
        assert "Replying to this e-mail also reopens the ticket." in notice.body_text


class TestResolvedWithoutUpdate:
    def test_a_resolved_ticket_closes_after_the_departments_hours(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        cast.ana.language = "en"
        cast.ana.save()
        ticket = open_ticket()
        services.ticket_resolve(ticket=ticket, agent=cast.agent)
        assert _sweep_at(clock, hours=71, minutes=59).closed == 0
        assert _status(ticket) == Status.RESOLVED

        assert _sweep_at(clock, hours=72, minutes=1).closed == 1
        assert _status(ticket) == Status.CLOSED
        [closed] = _system_events(ticket)
        assert (closed.action, closed.old_status, closed.new_status) == (
            Action.SYSTEM_AUTO_CLOSE,
            Status.RESOLVED,
            Status.CLOSED,
        )
        [notice] = _notices("ticket_auto_closed")
        assert "We had marked it as resolved" in notice.body_text
        assert "Our last reply was waiting" not in notice.body_text

    def test_a_department_with_24_hours_closes_sooner(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        _department(cast.soporte, auto_close_hours=24)
        ticket = open_ticket()
        services.ticket_resolve(ticket=ticket, agent=cast.agent)
        assert _sweep_at(clock, hours=23, minutes=59).closed == 0
        assert _sweep_at(clock, hours=24, minutes=1).closed == 1
        assert _status(ticket) == Status.CLOSED
        [closed] = _system_events(ticket)
        assert "24" in closed.reason

    def test_another_departments_tickets_keep_their_own_hours(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        _department(cast.soporte, auto_close_hours=24)
        quick = open_ticket()
        services.ticket_resolve(ticket=quick, agent=cast.agent)
        slow = open_ticket(department=cast.operaciones)
        services.ticket_resolve(ticket=slow, agent=cast.agent_ops)
        assert _sweep_at(clock, hours=25).closed == 1
        assert (_status(quick), _status(slow)) == (Status.CLOSED, Status.RESOLVED)


class TestTheCustomerAnswers:
    def test_a_customer_reply_before_the_deadline_cancels_it(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = _pending(cast, open_ticket)
        _at(clock, hours=10)
        services.ticket_reply(ticket=ticket, author=cast.ana, body="Sigue igual")
        assert ticket.status == Status.OPEN
        assert ticket.auto_close_at is None

        assert _sweep_at(clock, hours=100) == SweepResult(reminded=0, closed=0)
        assert _status(ticket) == Status.OPEN
        assert not _notices("ticket_auto_closed")

    def test_another_customer_of_the_account_answering_also_cancels_it(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = _pending(cast, open_ticket)
        _at(clock, hours=10)
        services.ticket_reply(ticket=ticket, author=cast.beto, body="Yo también lo veo")
        assert _sweep_at(clock, hours=100).closed == 0
        assert _status(ticket) == Status.OPEN

    def test_a_later_staff_reply_starts_the_clock_again_from_that_reply(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = _pending(cast, open_ticket)
        _at(clock, hours=10)
        services.ticket_reply(ticket=ticket, author=cast.ana, body="Sigue igual")
        _at(clock, hours=20)
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Ya quedó, revise por favor")
        assert ticket.auto_close_at == START + timedelta(hours=20 + 72)

        assert _sweep_at(clock, hours=91, minutes=59).closed == 0
        assert _status(ticket) == Status.PENDING
        assert _sweep_at(clock, hours=92, minutes=1).closed == 1
        assert _status(ticket) == Status.CLOSED

    def test_a_closed_ticket_can_be_reopened_by_him_at_any_time(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = _pending(cast, open_ticket)
        _sweep_at(clock, hours=73)
        _at(clock, days=400)
        services.ticket_reopen(ticket=ticket, actor=cast.ana)
        assert ticket.status == Status.OPEN
        assert ticket.auto_close_at is None
        assert _sweep_at(clock, days=800).closed == 0


class TestStaffActivity:
    def test_another_staff_reply_while_pending_moves_the_deadline(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = _pending(cast, open_ticket)
        _at(clock, hours=50)
        services.ticket_reply(ticket=ticket, author=cast.supervisor, body="Un dato más")
        assert ticket.auto_close_at == START + timedelta(hours=50 + 72)

        assert _sweep_at(clock, hours=73).closed == 0
        assert _status(ticket) == Status.PENDING
        assert _sweep_at(clock, hours=122, minutes=1).closed == 1
        assert _status(ticket) == Status.CLOSED

    def test_an_internal_note_does_not_touch_the_deadline(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = _pending(cast, open_ticket)
        deadline = ticket.auto_close_at
        _at(clock, hours=50)
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Esperemos al cliente")
        ticket.refresh_from_db()
        assert ticket.auto_close_at == deadline
        assert _sweep_at(clock, hours=72, minutes=1).closed == 1
        assert _status(ticket) == Status.CLOSED

    def test_a_note_on_an_open_ticket_starts_no_deadline(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = open_ticket()
        services.ticket_add_note(ticket=ticket, agent=cast.agent, body="Revisar mañana")
        ticket.refresh_from_db()
        assert ticket.auto_close_at is None
        assert _sweep_at(clock, days=10).closed == 0
        assert _status(ticket) == Status.OPEN

    def test_staff_reopening_a_resolved_ticket_cancels_the_deadline(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = open_ticket()
        services.ticket_resolve(ticket=ticket, agent=cast.agent)
        _at(clock, hours=5)
        services.ticket_reopen(ticket=ticket, actor=cast.agent)
        assert ticket.auto_close_at is None
        assert _sweep_at(clock, hours=100).closed == 0
        assert _status(ticket) == Status.OPEN


class TestReminder:
    def test_it_is_sent_once_before_the_close_and_the_close_still_comes(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        _department(cast.soporte, reminder_hours=24)
        ticket = _pending(cast, open_ticket)
        assert ticket.reminder_at == START + timedelta(hours=48)

        assert _sweep_at(clock, hours=47, minutes=59) == SweepResult(reminded=0, closed=0)
        assert _sweep_at(clock, hours=48, minutes=1) == SweepResult(reminded=1, closed=0)
        [reminder] = _notices("ticket_auto_close_reminder")
        assert reminder.to == cast.ana.email
        assert _status(ticket) == Status.PENDING

        assert _sweep_at(clock, hours=48, minutes=2) == SweepResult(reminded=0, closed=0)
        assert _sweep_at(clock, hours=60) == SweepResult(reminded=0, closed=0)
        assert _sweep_at(clock, hours=72, minutes=1) == SweepResult(reminded=0, closed=1)
        assert _status(ticket) == Status.CLOSED
        assert len(_notices("ticket_auto_close_reminder")) == 1
        assert len(_notices("ticket_auto_closed")) == 1

    def test_it_names_the_closing_time_in_the_customers_time_zone(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        _department(cast.soporte, reminder_hours=24)
        cast.ana.language = "en"
        cast.ana.timezone = "America/Mexico_City"  # UTC-6, no daylight saving time
        cast.ana.save()
        _pending(cast, open_ticket)
        _sweep_at(clock, hours=49)
        [reminder] = _notices("ticket_auto_close_reminder")
        # START + 72 h = 6 March 2025, 16:00 UTC = 10:00 in Mexico City.
        assert (
            "it will be closed automatically on March 6, 2025, 10 a.m. (America/Mexico_City)"
            in (reminder.body_text)
        )
        assert "Your ticket is waiting for your answer." in reminder.body_text

    def test_a_spanish_customer_reads_the_time_in_spanish(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        _department(cast.soporte, reminder_hours=24)
        cast.ana.timezone = "Europe/Madrid"  # UTC+1 in March before the change
        cast.ana.save()
        _pending(cast, open_ticket)
        _sweep_at(clock, hours=49)
        [reminder] = _notices("ticket_auto_close_reminder")
        # Month names and the date format come from Django's own Spanish catalogue.
        assert "6 de marzo de 2025 a las 17:00" in reminder.body_text
        assert "6 de marzo de 2025 a las 17:00" in reminder.body_html

    def test_no_reminder_when_the_department_has_none(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        ticket = _pending(cast, open_ticket)
        assert ticket.reminder_at is None
        assert _sweep_at(clock, hours=60) == SweepResult(reminded=0, closed=0)
        assert _sweep_at(clock, hours=72, minutes=1) == SweepResult(reminded=0, closed=1)
        assert not _notices("ticket_auto_close_reminder")

    def test_a_sweep_that_comes_after_the_deadline_closes_without_a_late_reminder(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        _department(cast.soporte, reminder_hours=24)
        ticket = _pending(cast, open_ticket)
        # The worker was down for four days: reminder and close are both due.
        assert _sweep_at(clock, days=4) == SweepResult(reminded=0, closed=1)
        assert _status(ticket) == Status.CLOSED
        assert not _notices("ticket_auto_close_reminder")
        assert len(_notices("ticket_auto_closed")) == 1

    def test_a_customer_reply_after_the_reminder_cancels_the_close(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        _department(cast.soporte, reminder_hours=24)
        ticket = _pending(cast, open_ticket)
        assert _sweep_at(clock, hours=49).reminded == 1
        _at(clock, hours=50)
        services.ticket_reply(ticket=ticket, author=cast.ana, body="Ya lo probé, sigue mal")
        assert _sweep_at(clock, hours=100) == SweepResult(reminded=0, closed=0)
        assert _status(ticket) == Status.OPEN


class TestOneBrokenTicket:
    def test_does_not_hold_back_the_others(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        """A customer whose stored time zone cannot be read (set by hand in the admin) breaks
        his reminder's template; every other ticket is still reminded and closed."""
        _department(cast.soporte, reminder_hours=24)
        broken = _pending(cast, open_ticket)
        cast.ana.timezone = "Not/A_Zone"
        cast.ana.save()
        beto_ticket = open_ticket(customer=cast.beto)
        services.ticket_reply(ticket=beto_ticket, author=cast.agent, body="¿Sigue?")

        assert _sweep_at(clock, hours=49) == SweepResult(reminded=1, closed=0)
        [reminder] = _notices("ticket_auto_close_reminder")
        assert reminder.to == cast.beto.email
        assert _sweep_at(clock, hours=73) == SweepResult(reminded=0, closed=2)
        assert (_status(broken), _status(beto_ticket)) == (Status.CLOSED, Status.CLOSED)


class TestTheSweepsCost:
    """The sweep reads only due rows through the partial indexes: how many tickets wait
    (with or without a deadline) does not change what it costs."""

    def _tickets(self, cast: Cast, open_ticket: OpenTicket, count: int) -> None:
        for index in range(count):
            ticket = open_ticket(subject=f"Consulta {index}")
            if index % 3 == 0:
                services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Sigue?")
            elif index % 3 == 1:
                services.ticket_resolve(ticket=ticket, agent=cast.agent)

    def _sweep_queries(self) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert auto_close_sweep() == SweepResult(reminded=0, closed=0)
        return len(queries.captured_queries)

    def test_ten_or_two_hundred_waiting_tickets_cost_the_same_queries(
        self, cast: Cast, open_ticket: OpenTicket, clock: TimeMachineFixture
    ) -> None:
        _department(cast.soporte, reminder_hours=24)
        self._tickets(cast, open_ticket, 10)
        _at(clock, hours=1)
        few = self._sweep_queries()
        _at(clock, hours=2)
        self._tickets(cast, open_ticket, 190)
        _at(clock, hours=3)
        assert Ticket.objects.exclude(auto_close_at=None).count() > 100
        assert self._sweep_queries() == few

    @pytest.mark.parametrize("field", ["auto_close_at", "reminder_at"])
    def test_the_due_query_walks_the_partial_index(
        self, cast: Cast, open_ticket: OpenTicket, field: str
    ) -> None:
        with CaptureQueriesContext(connection) as queries:
            auto_close_sweep()
        [sql] = [q["sql"] for q in queries.captured_queries if f'."{field}" <=' in q["sql"]]
        index = {"auto_close_at": "ticket_auto_close_due", "reminder_at": "ticket_reminder_due"}
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # An empty table is read faster without an index: forbid that shortcut.
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN {sql}")
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row) for row in cursor.fetchall())
        assert index[field] in plan, plan


def _due_tickets(cast: Cast, open_ticket: OpenTicket, count: int) -> list[Ticket]:
    """`count` tickets that wait on their customers, all due 72 hours from now."""
    tickets = []
    for index in range(count):
        ticket = open_ticket(subject=f"Caso {index}")
        services.ticket_reply(ticket=ticket, author=cast.agent, body="¿Sigue?")
        tickets.append(ticket)
    return tickets


class TestTwoSweepsAtOnce:
    def test_each_ticket_is_closed_once_and_noticed_once(
        self,
        transactional_db: None,
        cast: Cast,
        open_ticket: OpenTicket,
        clock: TimeMachineFixture,
    ) -> None:
        tickets = _due_tickets(cast, open_ticket, 20)
        _at(clock, hours=73)
        barrier = threading.Barrier(2)
        results: list[SweepResult] = []
        errors: list[BaseException] = []

        def sweep() -> None:
            try:
                barrier.wait(timeout=30)
                results.append(auto_close_sweep())
            except BaseException as error:  # surfaced by the asserts below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        assert not errors, errors

        assert sum(result.closed for result in results) == 20
        assert set(Ticket.objects.values_list("status", flat=True)) == {Status.CLOSED}
        for ticket in tickets:
            assert Event.objects.filter(ticket=ticket, action=Action.SYSTEM_AUTO_CLOSE).count() == 1
            assert (
                Event.objects.filter(ticket=ticket, action=Action.SYSTEM_AUTO_RESOLVE).count() == 1
            )
        notices = _notices("ticket_auto_closed")
        assert len(notices) == 20
        assert {notice.ticket_id for notice in notices} == {ticket.pk for ticket in tickets}


class TestTheSweepCommand:
    """`atiende sweep` in its own process reads the system clock: under `faketime '+4 days'`
    it closes what is due then."""

    def _database_for_a_subprocess(self, tmp_path: Path) -> tuple[str, bool]:
        """A DATABASE_URL another process can open holding this test's rows, and whether it
        is a copy (then this test reads the outcome from the copy)."""
        db = connection.settings_dict
        if connection.vendor == "sqlite":
            if "mode=memory" not in str(db["NAME"]) and str(db["NAME"]) != ":memory:":
                return f"sqlite:///{db['NAME']}", False
            # Django's in-memory test database (without tests/conftest.py's file): a copy.
            copy = tmp_path / "copy.sqlite3"
            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(copy)])
            return f"sqlite:///{copy}", True
        user = db["USER"] or ""
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        return f"postgresql://{user}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}", False

    def _status_seen_by(self, url: str, is_copy: bool, ticket: Ticket) -> str:
        if not is_copy:
            return _status(ticket)
        with sqlite3.connect(url.removeprefix("sqlite:///")) as copy:
            row = copy.execute(
                "SELECT status FROM tickets_ticket WHERE id = ?", [ticket.pk]
            ).fetchone()
        return str(row[0])

    def _run(self, tmp_path: Path, url: str, *faketime: str) -> str:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "atiende.settings",
            "DATABASE_URL": url,
            "SECRET_KEY": "x" * 50,
            "ATIENDE_DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": os.pathsep.join(sys.path),
            "LOG_LEVEL": "WARNING",
        }
        result = subprocess.run(
            [*faketime, sys.executable, "-m", "atiende.cli", "sweep"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def test_under_faketime_four_days_later_it_closes_what_is_due(
        self, transactional_db: None, cast: Cast, open_ticket: OpenTicket, tmp_path: Path
    ) -> None:
        if shutil.which("faketime") is None:
            pytest.skip(
                "!!! faketime IS NOT INSTALLED (apt-get install faketime): `atiende sweep` "
                "under a shifted system clock was NOT tested !!!"
            )
        waiting = _due_tickets(cast, open_ticket, 1)[0]
        fresh = open_ticket(subject="Recién abierto")
        url, is_copy = self._database_for_a_subprocess(tmp_path)

        assert self._run(tmp_path, url) == "reminded: 0, closed: 0"
        assert self._status_seen_by(url, is_copy, waiting) == Status.PENDING

        assert self._run(tmp_path, url, "faketime", "+4 days") == "reminded: 0, closed: 1"
        assert self._status_seen_by(url, is_copy, waiting) == Status.CLOSED
        assert self._status_seen_by(url, is_copy, fresh) == Status.OPEN
        if not is_copy:
            [notice] = _notices("ticket_auto_closed")
            assert notice.ticket_id == waiting.pk
