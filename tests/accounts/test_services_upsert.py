"""A billing system keeps the account's services in step, by their external IDs, as often as
it likes: one row per ID and account, whatever the number of calls or their timing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.accounts import customers
from atiende.accounts.models import Service
from atiende.core.errors import DomainError
from tests.conftest import Cast

HOSTING: dict[str, Any] = {
    "external_id": "SRV-1001",
    "kind": "hosting",
    "name": "tienda.mx",
    "plan": "Plan Pyme",
}


def upsert(cast: Cast, **kwargs: Any) -> tuple[Service, bool]:
    return customers.service_upsert(account=cast.account, **{**HOSTING, **kwargs})


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        Service.objects.order_by("id").values_list(
            "id", "account_id", "external_id", "kind", "name", "plan", "status"
        )
    )


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


class TestCreating:
    def test_a_new_external_id_creates_the_service(self, cast: Cast) -> None:
        service, created = upsert(cast)

        assert created is True
        service.refresh_from_db()
        assert service.account == cast.account
        assert (service.external_id, service.kind, service.name, service.plan, service.status) == (
            "SRV-1001",
            "hosting",
            "tienda.mx",
            "Plan Pyme",
            "active",
        )

    def test_text_is_trimmed_and_names_are_one_line(self, cast: Cast) -> None:
        service, _ = upsert(
            cast, external_id="  SRV-1001 ", name=" tienda.mx\n\u202e ", plan="  Plan   Pyme "
        )

        assert (service.external_id, service.name, service.plan) == (
            "SRV-1001",
            "tienda.mx",
            "Plan Pyme",
        )

    def test_the_plan_is_optional_and_the_status_active_by_default(self, cast: Cast) -> None:
        service, _ = customers.service_upsert(
            account=cast.account, external_id="D-1", kind="domain", name="tienda.com.mx"
        )

        assert (service.plan, service.status) == ("", "active")

    def test_it_leaves_the_services_without_external_id_alone(self, cast: Cast) -> None:
        before = snapshot()

        upsert(cast)

        assert snapshot()[: len(before)] == before
        assert Service.objects.count() == len(before) + 1


class TestSyncingAgain:
    def test_the_same_call_twice_is_one_row_and_writes_nothing_the_second_time(
        self, cast: Cast
    ) -> None:
        first, _ = upsert(cast)
        before = snapshot()

        with CaptureQueriesContext(connection) as queries:
            again, created = upsert(cast)

        assert created is False
        assert again.pk == first.pk
        assert snapshot() == before
        assert writes(queries) == []

    def test_equal_input_in_other_spacing_writes_nothing_either(self, cast: Cast) -> None:
        upsert(cast)

        with CaptureQueriesContext(connection) as queries:
            _, created = upsert(cast, external_id=" SRV-1001", name="tienda.mx ")

        assert created is False
        assert writes(queries) == []

    def test_new_values_update_the_row_and_only_the_changed_fields(self, cast: Cast) -> None:
        first, _ = upsert(cast)

        with CaptureQueriesContext(connection) as queries:
            service, created = upsert(cast, plan="Plan Empresa", status="suspended")

        assert created is False
        assert service.pk == first.pk
        service.refresh_from_db()
        assert (service.kind, service.name, service.plan, service.status) == (
            "hosting",
            "tienda.mx",
            "Plan Empresa",
            "suspended",
        )
        [update] = writes(queries)
        assert '"plan"' in update
        assert '"status"' in update
        assert '"name"' not in update
        assert Service.objects.filter(external_id="SRV-1001").count() == 1

    def test_a_service_billing_ended_is_cancelled_not_deleted_and_can_come_back(
        self, cast: Cast
    ) -> None:
        first, _ = upsert(cast)

        cancelled, _ = upsert(cast, status="cancelled")
        assert Service.objects.get(pk=first.pk).status == "cancelled"
        back, created = upsert(cast, status="active")

        assert cancelled.pk == back.pk == first.pk
        assert created is False
        assert Service.objects.get(pk=first.pk).status == "active"

    def test_the_same_external_id_on_another_account_is_another_service(self, cast: Cast) -> None:
        ours, _ = upsert(cast)

        theirs, created = customers.service_upsert(
            account=cast.other_account, **{**HOSTING, "name": "otra-tienda.net"}
        )

        assert created is True
        assert theirs.pk != ours.pk
        assert theirs.account == cast.other_account
        ours.refresh_from_db()
        assert ours.name == "tienda.mx"
        assert ours.account == cast.account


class TestBadInput:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"external_id": ""}, "external_id"),
            ({"external_id": "   "}, "external_id"),
            ({"external_id": "X" * 101}, "external_id"),
            ({"kind": "vps"}, "kind"),
            ({"kind": ""}, "kind"),
            ({"name": ""}, "name"),
            ({"name": " \n\t "}, "name"),
            ({"name": "n" * 201}, "name"),
            ({"plan": "p" * 101}, "plan"),
            ({"status": "paused"}, "status"),
            ({"status": ""}, "status"),
            ({"external_id": "SRV-\x00"}, "external_id"),
        ],
    )
    def test_is_refused_naming_the_field_and_changes_nothing(
        self, cast: Cast, changes: dict[str, Any], field: str
    ) -> None:
        upsert(cast)
        before = snapshot()

        with pytest.raises(DomainError) as raised:
            # Valid on their own, the other values would change the row.
            upsert(cast, **{"plan": "Plan Empresa", "status": "suspended", **changes})

        assert raised.value.field == field
        assert str(raised.value.message)
        assert snapshot() == before

    def test_an_unknown_kind_is_refused_with_a_readable_message(self, cast: Cast) -> None:
        with pytest.raises(DomainError, match="not a valid choice"):
            upsert(cast, kind="vps")


class TestWhenTwoCallsCross:
    def test_a_create_that_loses_the_race_updates_the_winners_row(
        self, cast: Cast, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The billing system's retry arrives while the first call is still writing: the
        second looked before the first committed, and meets the unique constraint."""
        winner, _ = upsert(cast)
        looked = _first_look_sees_nothing(monkeypatch)

        service, created = upsert(cast, plan="Plan Empresa")

        assert looked == [None, winner.pk]
        assert created is False
        assert service.pk == winner.pk
        assert Service.objects.get(external_id="SRV-1001").plan == "Plan Empresa"

    def test_two_threads_with_a_new_id_make_one_row(
        self, transactional_db: None, cast: Cast, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if connection.vendor == "postgresql":
            # Both look (and find nothing) before either writes: the race, every time.
            both_look_first(monkeypatch, "_service_for_update")

        results, errors = run_together(lambda: upsert(cast), threads=2)

        assert not errors, errors
        assert sorted(created for _, created in results) == [False, True]
        assert len({service.pk for service, _ in results}) == 1
        assert Service.objects.filter(account=cast.account, external_id="SRV-1001").count() == 1


def _first_look_sees_nothing(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """Makes the first look of `service_upsert` miss the row; returns what each look saw."""
    real = customers._service_for_update
    seen: list[int | None] = []

    def look(**kwargs: Any) -> Service | None:
        service = None if not seen else real(**kwargs)
        seen.append(service.pk if service else None)
        return service

    monkeypatch.setattr(customers, "_service_for_update", look)
    return seen


def both_look_first(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Each thread's first call of `customers.<name>` waits until the other thread made its
    own: both have looked before either writes."""
    real: Callable[..., Any] = getattr(customers, name)
    meet = threading.Barrier(2)
    local = threading.local()

    def look(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if not getattr(local, "looked", False):
            local.looked = True
            meet.wait(timeout=30)
        return result

    monkeypatch.setattr(customers, name, look)


def run_together(
    target: Callable[[], Any], *, threads: int
) -> tuple[list[Any], list[BaseException]]:
    """Starts `threads` threads at once on `target`, each with its own connection; returns
    their results and errors."""
    start = threading.Barrier(threads)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            results.append(target())
        except BaseException as error:  # surfaced by the caller's asserts
            errors.append(error)
        finally:
            connection.close()

    started = [threading.Thread(target=run) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in started)
    return results, errors
