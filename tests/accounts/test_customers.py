"""Customers as the API creates, changes and finds them: an account with its holder, found by
e-mail, external ID or public ID; and addresses the company vouches for."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atiende.accounts import customers, services
from atiende.accounts.models import Account, AuthorizedAddress, User
from atiende.accounts.selectors import account_holder, authorized_address_list
from atiende.core.errors import DomainError, NotFound
from tests.accounts.conftest import client_for, outbox
from tests.accounts.test_services_upsert import both_look_first, run_together, writes
from tests.conftest import Cast

MOMENT = datetime(2025, 3, 3, 16, 0, tzinfo=UTC)


def create(cast: Cast, **kwargs: Any) -> Account:
    values: dict[str, Any] = {
        "name": "Tienda Nueva S.A.",
        "email": "dueno@tienda.mx",
        "full_name": "Dueño de la Tienda",
        "created_by": cast.admin,
    }
    values.update(kwargs)
    return customers.customer_create(**values)


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row these functions may write, to show that a refused call wrote none."""
    return {
        "accounts": list(
            Account.objects.order_by("id").values_list("id", "name", "external_id", "is_active")
        ),
        "users": list(
            User.objects.order_by("id").values_list(
                "id", "email", "full_name", "language", "account_id", "email_confirmed_at"
            )
        ),
        "addresses": list(
            AuthorizedAddress.objects.order_by("id").values_list(
                "id", "account_id", "email", "confirmed_at"
            )
        ),
        "outbox": [(row.template, row.to) for row in outbox()],
    }


# Creating ---------------------------------------------------------------------------------


class TestCreate:
    def test_opens_an_account_whose_holder_is_a_customer_without_password(self, cast: Cast) -> None:
        with time_machine.travel(MOMENT, tick=False):
            account = create(cast, external_id="C-77")

        account.refresh_from_db()
        assert (account.name, account.external_id, account.is_active) == (
            "Tienda Nueva S.A.",
            "C-77",
            True,
        )
        [holder] = account.users.all()
        assert account_holder(account=account) == holder
        assert holder.email == "dueno@tienda.mx"
        assert holder.full_name == "Dueño de la Tienda"
        assert holder.is_customer
        assert not holder.is_staff
        assert not holder.is_superuser
        assert holder.is_active
        assert not holder.has_usable_password()
        assert holder.email_confirmed_at == MOMENT
        assert (holder.language, holder.timezone) == ("es", "America/Mexico_City")

    def test_the_holders_address_is_the_accounts_main_one_confirmed(self, cast: Cast) -> None:
        account = create(cast)

        [row] = authorized_address_list(account=account)
        assert row.is_main
        assert row.is_confirmed
        assert row.address.email == "dueno@tienda.mx"
        assert row.address.added_by == cast.admin

    def test_without_invite_no_mail_is_written(self, cast: Cast) -> None:
        create(cast)

        assert outbox() == []

    def test_the_name_and_address_are_cleaned(self, cast: Cast) -> None:
        account = create(
            cast,
            name="  Tienda \u202e Nueva\n S.A. ",
            email="  Dueno@Tienda.MX ",
            full_name=" Dueño\tde la  Tienda ",
        )

        holder = account.users.get()
        assert account.name == "Tienda Nueva S.A."
        assert holder.email == "dueno@tienda.mx"
        assert holder.full_name == "Dueño de la Tienda"

    @pytest.mark.parametrize(
        ("given", "stored"), [("en", "en"), ("en-US", "en"), ("ES-mx", "es"), ("fr", "es")]
    )
    def test_the_language_is_normalized(self, cast: Cast, given: str, stored: str) -> None:
        account = create(cast, language=given)

        assert account.users.get().language == stored

    def test_a_time_zone_may_be_given(self, cast: Cast) -> None:
        account = create(cast, timezone="America/Bogota")

        assert account.users.get().timezone == "America/Bogota"

    def test_the_full_name_is_optional(self, cast: Cast) -> None:
        account = create(cast, full_name="")

        assert account.users.get().display_name == "dueno"


class TestCreateRefuses:
    @pytest.mark.parametrize("email", ["ANA@Example.com", "ana@example.com", "agente@example.com"])
    def test_an_address_a_user_already_has_in_any_case(self, cast: Cast, email: str) -> None:
        before = snapshot()

        with pytest.raises(DomainError) as raised:
            create(cast, email=email, invite=True)

        assert raised.value.field == "email"
        assert raised.value.message == "A user with this e-mail address already exists."
        assert snapshot() == before

    def test_an_external_id_another_account_has(self, cast: Cast) -> None:
        customers.customer_update(account=cast.other_account, external_id="C-77")
        before = snapshot()

        with pytest.raises(DomainError) as raised:
            create(cast, external_id=" C-77 ", invite=True)

        assert raised.value.field == "external_id"
        assert snapshot() == before

    def test_no_external_id_is_no_conflict(self, cast: Cast) -> None:
        create(cast, email="uno@tienda.mx")
        create(cast, email="dos@tienda.mx")

        assert Account.objects.filter(external_id="").count() == 4

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"email": ""}, "email"),
            ({"email": "dueno"}, "email"),
            ({"email": "dueno@"}, "email"),
            ({"email": "dueno@tienda@mx"}, "email"),
            ({"email": "due no@tienda.mx"}, "email"),
            ({"email": "d" * 250 + "@tienda.mx"}, "email"),
            ({"name": ""}, "name"),
            ({"name": " \n "}, "name"),
            ({"name": "N" * 201}, "name"),
            ({"full_name": "F" * 151}, "full_name"),
            ({"email": "due\x00no@tienda.mx"}, "email"),
            ({"external_id": "X" * 101}, "external_id"),
            ({"external_id": "C-\x00"}, "external_id"),
            ({"timezone": "Mars/Olympus"}, "timezone"),
            ({"timezone": ""}, "timezone"),
        ],
    )
    def test_bad_input_naming_the_field_and_nothing_is_written(
        self, cast: Cast, changes: dict[str, Any], field: str
    ) -> None:
        before = snapshot()

        with pytest.raises(DomainError) as raised:
            create(cast, invite=True, **changes)

        assert raised.value.field == field
        assert str(raised.value.message)
        assert snapshot() == before

    def test_the_longest_allowed_values_are_taken(self, cast: Cast) -> None:
        account = create(cast, name="N" * 200, full_name="F" * 150, external_id="X" * 100)

        assert len(account.name) == 200
        assert len(account.users.get().full_name) == 150


class TestInvite:
    def test_the_holder_is_mailed_a_link_to_choose_his_password(self, cast: Cast) -> None:
        create(cast, invite=True, language="en")

        [row] = outbox()
        assert (row.template, row.to) == ("account_invitation", "dueno@tienda.mx")
        assert "choose a password" in row.subject
        assert "dueno@tienda.mx" in row.body_text
        assert reverse("accounts:password_reset") in row.body_text
        assert "Choose my password" in row.body_html

    def test_in_his_language(self, cast: Cast, settings: Any) -> None:
        settings.LANGUAGE_CODE = "es"
        create(cast, invite=True, language="es", email="es@tienda.mx")
        create(cast, invite=True, language="en", email="en@tienda.mx")

        rows = {row.to: row for row in outbox()}
        assert "Hello" not in rows["es@tienda.mx"].body_text
        assert "Hello" in rows["en@tienda.mx"].body_text

    def test_the_link_lets_him_choose_a_password_and_log_in(self, cast: Cast) -> None:
        create(cast, invite=True)
        [row] = outbox()
        link = re.search(r"https?://[^\s\"<>]+?(/cuenta/clave/recuperar/[^\s\"<>]+)", row.body_text)
        assert link, row.body_text
        client = Client()

        page = client.get(link.group(1), follow=True)
        assert page.context["validlink"]
        chosen = client.post(
            page.redirect_chain[-1][0],
            {"new_password1": "una-clave-propia-larga", "new_password2": "una-clave-propia-larga"},
        )

        assert chosen.status_code == 302
        holder = User.objects.get(email="dueno@tienda.mx")
        assert holder.check_password("una-clave-propia-larga")
        login = Client().post(
            reverse("accounts:login"),
            {"username": "dueno@tienda.mx", "password": "una-clave-propia-larga"},
        )
        assert login.status_code == 302


class TestCreateRace:
    def test_an_address_taken_between_the_check_and_the_insert_is_a_domain_error(
        self, cast: Cast, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A concurrent create committed the address after our check: the unique index
        stops us, and the caller hears the same refusal as for any duplicate."""
        real = customers._email_taken_check
        calls: list[str] = []

        def check(email: str, **kwargs: Any) -> None:
            calls.append(email)
            if len(calls) > 1:
                real(email, **kwargs)

        monkeypatch.setattr(customers, "_email_taken_check", check)
        before = snapshot()

        with pytest.raises(DomainError) as raised:
            create(cast, email="ana@example.com", invite=True)

        assert raised.value.field == "email"
        assert len(calls) == 2
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("field", "kwargs"),
        [
            ("email", lambda n: {"email": "mismo@tienda.mx", "external_id": f"C-{n}"}),
            ("external_id", lambda n: {"email": f"{n}@tienda.mx", "external_id": "C-1"}),
        ],
    )
    def test_two_threads_creating_the_same_customer_make_one(
        self,
        transactional_db: None,
        cast: Cast,
        monkeypatch: pytest.MonkeyPatch,
        field: str,
        kwargs: Any,
    ) -> None:
        if connection.vendor == "postgresql":
            # Both check (and find nothing) before either writes: the race, every time.
            both_look_first(monkeypatch, "_external_id_taken_check")
        numbers = iter(range(2))
        lock = threading.Lock()

        def one() -> Account:
            with lock:
                number = next(numbers)
            return create(cast, **kwargs(number))

        results, errors = run_together(one, threads=2)

        assert len(results) == 1, errors
        [error] = errors
        assert isinstance(error, DomainError), error
        assert error.field == field
        assert Account.objects.count() == 3
        assert User.objects.filter(account=results[0]).count() == 1


# Updating ---------------------------------------------------------------------------------


class TestUpdate:
    def test_only_the_given_fields_change(self, cast: Cast) -> None:
        before = snapshot()

        account = customers.customer_update(account=cast.account, name="  Ejemplo Hosting ")

        assert account is cast.account
        assert account.name == "Ejemplo Hosting"
        after = snapshot()
        assert after["users"] == before["users"]
        assert after["addresses"] == before["addresses"]
        changed = [row for row in after["accounts"] if row not in before["accounts"]]
        assert changed == [(cast.account.pk, "Ejemplo Hosting", "", True)]

    def test_the_external_id_is_set_and_removed(self, cast: Cast) -> None:
        customers.customer_update(account=cast.account, external_id="C-1")
        assert Account.objects.get(pk=cast.account.pk).external_id == "C-1"

        customers.customer_update(account=cast.account, external_id="")
        assert Account.objects.get(pk=cast.account.pk).external_id == ""

    def test_keeping_its_own_external_id_is_no_conflict(self, cast: Cast) -> None:
        customers.customer_update(account=cast.account, external_id="C-1")

        customers.customer_update(account=cast.account, external_id="C-1", name="Otro nombre")

        assert Account.objects.get(pk=cast.account.pk).name == "Otro nombre"

    def test_an_account_is_deactivated_and_its_users_kept(self, cast: Cast) -> None:
        customers.customer_update(account=cast.account, is_active=False)

        assert not Account.objects.get(pk=cast.account.pk).is_active
        assert cast.account.is_active is False
        assert all(User.objects.filter(account=cast.account).values_list("is_active", flat=True))

    def test_the_holders_name_and_language(self, cast: Cast) -> None:
        customers.customer_update(
            account=cast.account, full_name=" Ana  Torres Ruiz", language="es-MX"
        )

        ana = User.objects.get(pk=cast.ana.pk)
        assert (ana.full_name, ana.language) == ("Ana Torres Ruiz", "es")
        assert User.objects.get(pk=cast.beto.pk).full_name == "Beto Ruiz"

    def test_a_new_holder_address_is_confirmed_and_becomes_the_main_one(self, cast: Cast) -> None:
        services.authorized_address_add(
            account=cast.account, email="ana@example.com", added_by=cast.ana, confirmed=True
        )

        with time_machine.travel(MOMENT, tick=False):
            customers.customer_update(account=cast.account, email=" Ana.Torres@Example.com ")

        ana = User.objects.get(pk=cast.ana.pk)
        assert ana.email == "ana.torres@example.com"
        assert ana.email_confirmed_at == MOMENT
        [row] = authorized_address_list(account=cast.account)
        assert (row.address.email, row.is_main, row.address.confirmed_at) == (
            "ana.torres@example.com",
            True,
            MOMENT,
        )
        assert customers.customer_find(email="ana@example.com") == []

    def test_a_new_holder_address_already_on_the_list_is_merged(self, cast: Cast) -> None:
        services.authorized_address_add(
            account=cast.account, email="ana@example.com", added_by=cast.ana, confirmed=True
        )
        services.authorized_address_add(
            account=cast.account, email="Ana.Torres@example.com", added_by=cast.ana
        )

        customers.customer_update(account=cast.account, email="ana.torres@example.com")

        [row] = authorized_address_list(account=cast.account)
        assert row.address.email == "ana.torres@example.com"
        assert row.is_confirmed

    def test_the_same_address_in_other_case_changes_nothing(self, cast: Cast) -> None:
        before = snapshot()

        with CaptureQueriesContext(connection) as queries:
            customers.customer_update(
                account=cast.account, email="ANA@example.com", name=cast.account.name
            )

        assert writes(queries) == []
        assert snapshot() == before

    def test_it_compares_with_the_stored_row_not_an_old_copy(self, cast: Cast) -> None:
        old_copy = Account.objects.get(pk=cast.account.pk)
        customers.customer_update(account=cast.account, name="Cambiado")

        customers.customer_update(account=old_copy, name="Hosting Ejemplo S.A.")

        assert Account.objects.get(pk=cast.account.pk).name == "Hosting Ejemplo S.A."

    def test_an_account_without_users_has_no_holder_to_change(self, cast: Cast) -> None:
        empty = Account.objects.create(name="Sin usuarios")

        with pytest.raises(DomainError) as raised:
            customers.customer_update(account=empty, full_name="Nadie")

        assert raised.value.field == "email"
        customers.customer_update(account=empty, name="Sin usuarios aún")
        assert Account.objects.get(pk=empty.pk).name == "Sin usuarios aún"


class TestUpdateRefuses:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"email": "beto@example.com"}, "email"),
            ({"email": "OTRO@example.net"}, "email"),
            ({"email": "agente@example.com"}, "email"),
            ({"email": "no-es-un-correo"}, "email"),
            ({"email": ""}, "email"),
            ({"name": "  "}, "name"),
            ({"name": "N" * 201}, "name"),
            ({"full_name": "F" * 151}, "full_name"),
            ({"external_id": "C-OTRA"}, "external_id"),
            ({"external_id": "X" * 101}, "external_id"),
        ],
    )
    def test_bad_input_changes_nothing_not_even_the_other_fields(
        self, cast: Cast, changes: dict[str, Any], field: str
    ) -> None:
        customers.customer_update(account=cast.other_account, external_id="C-OTRA")
        before = snapshot()
        values: dict[str, Any] = {
            "name": "Nombre nuevo",
            "is_active": False,
            "full_name": "Ana Nueva",
            "language": "es",
            **changes,
        }

        with pytest.raises(DomainError) as raised:
            customers.customer_update(account=cast.account, **values)

        assert raised.value.field == field
        assert snapshot() == before
        assert (cast.account.name, cast.account.is_active) == ("Hosting Ejemplo S.A.", True)

    def test_an_address_taken_between_the_check_and_the_write_is_a_domain_error(
        self, cast: Cast, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        real = customers._email_taken_check
        calls: list[str] = []

        def check(email: str, **kwargs: Any) -> None:
            calls.append(email)
            if len(calls) > 1:
                real(email, **kwargs)

        monkeypatch.setattr(customers, "_email_taken_check", check)
        before = snapshot()

        with pytest.raises(DomainError) as raised:
            customers.customer_update(account=cast.account, email="otro@example.net", name="X")

        assert raised.value.field == "email"
        assert snapshot() == before


# Finding ----------------------------------------------------------------------------------


class TestFind:
    def test_by_a_customers_login_in_any_case(self, cast: Cast) -> None:
        assert customers.customer_find(email=" ANA@example.com") == [cast.account]
        assert customers.customer_find(email="beto@example.com") == [cast.account]
        assert customers.customer_find(email="otro@example.net") == [cast.other_account]

    def test_by_a_confirmed_authorized_address_in_any_case(self, cast: Cast) -> None:
        services.authorized_address_add(
            account=cast.other_account,
            email="Facturas@Otra.net",
            added_by=cast.otro,
            confirmed=True,
        )

        assert customers.customer_find(email="facturas@OTRA.net") == [cast.other_account]

    def test_an_unconfirmed_address_finds_nothing(self, cast: Cast) -> None:
        services.authorized_address_add(
            account=cast.other_account, email="facturas@otra.net", added_by=cast.otro
        )

        assert customers.customer_find(email="facturas@otra.net") == []

    def test_every_account_once_by_name(self, cast: Cast) -> None:
        # Otro's login, and confirmed on both accounts; Ana's account has it twice over.
        for account in (cast.account, cast.other_account):
            services.authorized_address_add(
                account=account, email="otro@example.net", added_by=cast.admin, confirmed=True
            )
        services.authorized_address_add(
            account=cast.account, email="beto@example.com", added_by=cast.admin, confirmed=True
        )

        assert customers.customer_find(email="otro@example.net") == [
            cast.account,
            cast.other_account,
        ]
        assert customers.customer_find(email="beto@example.com") == [cast.account]

    @pytest.mark.parametrize(
        "email", ["agente@example.com", "nadie@example.com", "", "ana", "ana\x00@example.com"]
    )
    def test_staff_unknown_and_malformed_addresses_find_nothing(
        self, cast: Cast, email: str
    ) -> None:
        assert customers.customer_find(email=email) == []

    def test_its_queries_walk_indexes(self, cast: Cast) -> None:
        services.authorized_address_add(
            account=cast.other_account,
            email="facturas@otra.net",
            added_by=cast.otro,
            confirmed=True,
        )
        with CaptureQueriesContext(connection) as queries:
            customers.customer_find(email="facturas@otra.net")
        sqls = [query["sql"] for query in queries.captured_queries]
        [users] = [sql for sql in sqls if '"accounts_user"' in sql]
        [addresses] = [sql for sql in sqls if '"accounts_authorizedaddress"' in sql]

        assert "email" in _plan(users).lower()
        assert re.search(r"authorized_address_(email|unique_per_account)", _plan(addresses))


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # An almost empty table is read faster without an index: forbid that shortcut.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "Seq Scan" not in plan, plan
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "INDEX" in plan.upper(), plan
    return plan


class TestByExternalId:
    def test_finds_the_account_with_it(self, cast: Cast) -> None:
        customers.customer_update(account=cast.other_account, external_id="C-9")

        assert customers.customer_by_external_id(external_id=" C-9 ") == cast.other_account

    def test_unknown_or_empty_finds_none(self, cast: Cast) -> None:
        customers.customer_update(account=cast.other_account, external_id="C-9")

        assert customers.customer_by_external_id(external_id="c-9") is None
        assert customers.customer_by_external_id(external_id="C-10") is None
        # Most accounts have no external ID: "" names none of them.
        assert customers.customer_by_external_id(external_id="") is None
        assert customers.customer_by_external_id(external_id="  ") is None
        assert customers.customer_by_external_id(external_id="C-9\x00") is None


class TestAccessByPublicId:
    def test_by_uuid_or_its_text(self, cast: Cast) -> None:
        public_id = cast.other_account.public_id

        assert customers.access_customer(public_id=public_id) == cast.other_account
        assert customers.access_customer(public_id=str(public_id)) == cast.other_account
        assert customers.access_customer(public_id=str(public_id).upper()) == cast.other_account

    def test_an_inactive_account_is_still_found(self, cast: Cast) -> None:
        customers.customer_update(account=cast.account, is_active=False)

        assert customers.access_customer(public_id=cast.account.public_id) == cast.account

    @pytest.mark.parametrize("public_id", [uuid.uuid4(), "not-a-uuid", "", "1", "' OR 1=1 --"])
    def test_unknown_and_malformed_ids_are_not_found(
        self, cast: Cast, public_id: str | uuid.UUID
    ) -> None:
        with pytest.raises(NotFound):
            customers.access_customer(public_id=public_id)

    def test_the_primary_key_is_not_a_public_id(self, cast: Cast) -> None:
        with pytest.raises(NotFound):
            customers.access_customer(public_id=str(cast.account.pk))


# Addresses the company vouches for ----------------------------------------------------------


class TestConfirmedAddresses:
    def test_are_stored_confirmed_and_mailed_nothing(self, cast: Cast) -> None:
        with time_machine.travel(MOMENT, tick=False):
            address = services.authorized_address_add(
                account=cast.account,
                email="Soporte@Ejemplo.mx",
                added_by=cast.agent,
                confirmed=True,
            )

        address.refresh_from_db()
        assert (address.email, address.confirmed_at, address.added_by) == (
            "soporte@ejemplo.mx",
            MOMENT,
            cast.agent,
        )
        assert outbox() == []
        assert customers.customer_find(email="soporte@ejemplo.mx") == [cast.account]

    def test_without_it_the_address_still_waits_for_its_link(self, cast: Cast) -> None:
        address = services.authorized_address_add(
            account=cast.account, email="soporte@ejemplo.mx", added_by=cast.ana
        )

        assert address.confirmed_at is None
        [row] = outbox()
        assert (row.template, row.to) == ("account_address_confirm", "soporte@ejemplo.mx")

    def test_a_duplicate_is_still_refused(self, cast: Cast) -> None:
        services.authorized_address_add(
            account=cast.account, email="soporte@ejemplo.mx", added_by=cast.ana
        )
        before = snapshot()

        with pytest.raises(DomainError) as raised:
            services.authorized_address_add(
                account=cast.account,
                email="SOPORTE@ejemplo.mx",
                added_by=cast.agent,
                confirmed=True,
            )

        assert raised.value.field == "email"
        assert snapshot() == before


# Admin -----------------------------------------------------------------------------------


class TestAdmin:
    def test_shows_the_public_id_read_only_and_the_external_id(self, cast: Cast) -> None:
        customers.customer_update(account=cast.account, external_id="C-42")
        client = client_for(cast.admin)
        url = reverse("admin:accounts_account_change", args=[cast.account.pk])

        body = client.get(url).content.decode()

        assert str(cast.account.public_id) in body
        assert 'name="public_id"' not in body
        assert 'name="external_id"' in body
        assert 'value="C-42"' in body

    def test_finds_accounts_by_external_id(self, cast: Cast) -> None:
        customers.customer_update(account=cast.other_account, external_id="C-42")
        client = client_for(cast.admin)

        response = client.get(reverse("admin:accounts_account_changelist"), {"q": "C-42"})

        assert list(response.context["cl"].result_list) == [cast.other_account]
