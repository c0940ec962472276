"""The queue's filters and sort orders, and what happens to parameters that make no sense."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from atiende.accounts.models import Account
from atiende.tickets import routing, services
from tests.conftest import Cast, customer_create
from tests.console.queue_support import (
    QUEUE,
    OpenTicket,
    at,
    html,
    login,
    queue,
    references,
)


class TestFilters:
    def test_by_department_among_his_own(self, cast: Cast, open_ticket: OpenTicket) -> None:
        soporte = open_ticket()
        operaciones = open_ticket(department=cast.operaciones)

        assert references(queue(login(cast.supervisor), departamento="operaciones")) == [
            operaciones.reference
        ]
        assert references(queue(login(cast.supervisor), departamento="soporte-tecnico")) == [
            soporte.reference
        ]

    def test_the_department_list_offers_only_his_departments(self, cast: Cast) -> None:
        page = queue(login(cast.agent))
        select = page.split('name="departamento"', 1)[1].split("</select>", 1)[0]

        assert 'value="soporte-tecnico"' in select
        assert 'value="operaciones"' not in select
        assert 'value="atencion-a-clientes"' not in select

    @pytest.mark.parametrize("status", ["open", "pending", "resolved", "closed"])
    def test_by_status(self, cast: Cast, open_ticket: OpenTicket, status: str) -> None:
        tickets = {name: open_ticket(subject=name) for name in ("open", "pending", "resolved")}
        services.ticket_reply(ticket=tickets["pending"], author=cast.agent, body="Hola")
        services.ticket_resolve(ticket=tickets["resolved"], agent=cast.agent)
        tickets["closed"] = open_ticket(subject="closed")
        services.ticket_close(ticket=tickets["closed"], actor=cast.ana)

        for view in ("todos", "sin-asignar"):
            listed = references(queue(login(cast.agent), vista=view, estado=status))
            assert listed == [tickets[status].reference], view

    def test_by_assignee_or_nobody(self, cast: Cast, open_ticket: OpenTicket) -> None:
        hers = open_ticket(subject="De Sara")
        routing.ticket_assign(ticket=hers, assignee=cast.supervisor, actor=cast.supervisor)
        his = open_ticket(subject="De Laura")
        routing.ticket_assign(ticket=his, assignee=cast.agent, actor=cast.agent)
        free = open_ticket(subject="Libre")
        client = login(cast.agent)

        by_id = references(queue(client, vista="todos", asignado=str(cast.supervisor.pk)))
        nobody = references(queue(client, vista="todos", asignado="nadie"))

        assert by_id == [hers.reference]
        assert nobody == [free.reference]

    @pytest.mark.parametrize("typed", ["beto@", "BETO", "Ruiz", "ejemplo s.a", "example.COM"])
    def test_by_customer_address_name_or_account(
        self, cast: Cast, open_ticket: OpenTicket, typed: str
    ) -> None:
        other = Account.objects.create(name="Distinta Cía")
        stranger = customer_create("zoe@distinta.org", other, "Zoe Zamora")
        by_beto = open_ticket(customer=cast.beto)
        by_zoe = open_ticket(customer=stranger)

        listed = references(queue(login(cast.agent), vista="todos", cliente=typed))

        assert by_beto.reference in listed
        assert by_zoe.reference not in listed

    def test_by_creation_day_in_the_agents_time_zone(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        # 03:00 UTC on March 2nd is still March 1st in Mexico City (UTC-6).
        with time_machine.travel(datetime(2026, 3, 2, 3, tzinfo=UTC), tick=False):
            late_on_the_first = open_ticket(subject="Noche")
        with time_machine.travel(datetime(2026, 3, 2, 18, tzinfo=UTC), tick=False):
            second = open_ticket(subject="Día")
        client = login(cast.agent)

        first_day = references(queue(client, vista="todos", desde="2026-03-01", hasta="2026-03-01"))
        second_day = references(queue(client, vista="todos", desde="2026-03-02"))
        until_second = references(queue(client, vista="todos", hasta="2026-03-02"))

        assert first_day == [late_on_the_first.reference]
        assert second_day == [second.reference]
        assert sorted(until_second) == sorted([late_on_the_first.reference, second.reference])

        cast.agent.timezone = "UTC"
        cast.agent.save()
        in_utc = references(queue(login(cast.agent), vista="todos", desde="2026-03-02"))
        assert sorted(in_utc) == sorted([late_on_the_first.reference, second.reference])

    def test_filters_combine(self, cast: Cast, open_ticket: OpenTicket) -> None:
        wanted = open_ticket(customer=cast.beto)
        open_ticket(customer=cast.ana)
        pending = open_ticket(customer=cast.beto)
        services.ticket_reply(ticket=pending, author=cast.agent, body="Hola")

        listed = references(
            queue(
                login(cast.agent),
                vista="todos",
                estado="open",
                cliente="beto",
                departamento="soporte-tecnico",
                asignado="nadie",
            )
        )

        assert listed == [wanted.reference]

    def test_the_form_keeps_what_was_asked_and_labels_every_field(self, cast: Cast) -> None:
        page = queue(
            login(cast.agent),
            vista="todos",
            estado="pending",
            cliente='<i>"x"</i>',
            desde="2026-03-01",
        )

        assert '<input type="hidden" name="vista" value="todos">' in page
        assert '<option value="pending" selected>' in page
        assert 'value="&lt;i&gt;&quot;x&quot;&lt;/i&gt;"' in page
        assert '<i>"x"</i>' not in page
        assert 'type="date" name="desde" value="2026-03-01"' in page
        for name in ("departamento", "estado", "asignado", "cliente", "desde", "hasta", "orden"):
            assert f'<label for="id_{name}">' in page
        assert '<button type="submit">Apply filters</button>' in page


class TestOrder:
    @pytest.fixture
    def three(self, cast: Cast, open_ticket: OpenTicket) -> list[str]:
        """Created at hours 0, 1, 2; the first one answered last, by its customer, at hour 5."""
        with at(0):
            first = open_ticket()
            services.ticket_reply(ticket=first, author=cast.agent, body="¿Qué ve?")
        with at(1):
            second = open_ticket()
        with at(2):
            third = open_ticket()
        with at(5):
            services.ticket_reply(ticket=first, author=cast.ana, body="Sigue igual")
        return [first.reference, second.reference, third.reference]

    def test_oldest_waiting_first_is_the_default_for_open_tickets(
        self, cast: Cast, three: list[str]
    ) -> None:
        first, second, third = three
        client = login(cast.agent)
        expected = [second, third, first]

        assert references(queue(client)) == expected
        assert references(queue(client, vista="todos", estado="open")) == expected
        assert references(queue(client, vista="todos", orden="antiguos")) == expected

    def test_other_lists_default_to_the_latest_activity(self, cast: Cast, three: list[str]) -> None:
        first, second, third = three

        assert references(queue(login(cast.agent), vista="todos")) == [first, third, second]

    def test_newest_activity_or_newest_tickets_on_request(
        self, cast: Cast, three: list[str]
    ) -> None:
        first, second, third = three
        client = login(cast.agent)

        assert references(queue(client, orden="recientes")) == [first, third, second]
        assert references(queue(client, orden="creados")) == [third, second, first]


class TestNonsense:
    """A parameter that makes no sense is left out, said so, and never an error page."""

    @pytest.mark.parametrize(
        "params",
        [
            {"vista": "otra"},
            {"estado": "borrado"},
            {"departamento": "no-existe"},
            {"departamento": "operaciones"},  # not one of his
            {"asignado": "999999"},
            {"asignado": "uno"},
            {"desde": "ayer"},
            {"hasta": "2026-13-45"},
            {"desde": "0001-01-01"},
            {"hasta": "9999-12-31"},
            {"orden": "al-reves"},
            {"cliente": "x" * 500},
            {"pagina": "-1"},
            {"estado": ["open", "borrado"]},
            {"desde": "2026-03-05", "hasta": "2026-03-01"},
        ],
    )
    def test_is_ignored_never_an_error_page(
        self, cast: Cast, open_ticket: OpenTicket, params: dict[str, str]
    ) -> None:
        ticket = open_ticket()

        response = login(cast.agent).get(QUEUE, params)

        assert response.status_code == 200
        assert ticket.reference in html(response)

    def test_the_valid_filters_still_apply_and_the_wrong_one_is_pointed_out(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        by_beto = open_ticket(customer=cast.beto)
        open_ticket(customer=cast.ana)

        page = queue(login(cast.agent), cliente="beto", estado="borrado", hasta="ayer")

        assert references(page) == [by_beto.reference]
        assert "Some filters could not be understood and were left out." in page
        assert page.count('class="error"') == 2
        assert '<details class="card queue-filters" open>' in page

    def test_a_start_after_the_end_is_pointed_out_and_the_end_left_out(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        with time_machine.travel(datetime(2026, 3, 3, 18, tzinfo=UTC), tick=False):
            ticket = open_ticket()

        page = queue(login(cast.agent), vista="todos", desde="2026-03-02", hasta="2026-03-01")

        assert references(page) == [ticket.reference]
        assert "This date is before the “from” date." in page
