"""Historial de tickets: every ticket of the account, newest activity first, filterable."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from atiende.tickets import services
from atiende.tickets.models import Ticket
from tests.conftest import Cast
from tests.portal.conftest import html, login, queries_for

OpenTicket = Callable[..., Ticket]
URL = "/tickets/"


def _rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def test_lists_every_ticket_of_the_account_for_both_its_customers(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    by_ana = open_ticket(customer=cast.ana, subject="De Ana")
    by_beto = open_ticket(customer=cast.beto, subject="De Beto")
    theirs = open_ticket(customer=cast.otro, subject="De Otro")
    for user in (cast.ana, cast.beto):
        page = html(login(user).get(URL))
        assert by_ana.reference in page and by_beto.reference in page
        assert theirs.reference not in page and "De Otro" not in page


def test_each_row_links_the_subject_and_shows_department_status_and_who_wrote_last(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    answered = open_ticket(customer=cast.ana, subject="Respondido")
    services.ticket_reply(ticket=answered, author=cast.agent, body="Listo")
    by_beto = open_ticket(customer=cast.beto, subject="De Beto")
    mine = open_ticket(customer=cast.ana, subject="Mío <b>")
    rows = _rows(html(login(cast.ana).get(URL)))
    assert len(rows) == 3
    newest, middle, oldest = rows
    assert f'<a href="/tickets/{mine.reference}/">Mío &lt;b&gt;</a>' in newest
    assert 'data-label="Last reply by">You<' in newest
    assert "Beto Ruiz" in middle and by_beto.reference in middle
    assert "Laura Agente (Support)" in oldest
    assert '<span class="badge badge-pending">Pending</span>' in oldest
    assert '<span class="badge badge-open">Open</span>' in newest
    assert cast.soporte.name in newest
    for label in ("ID", "Subject", "Department", "Status", "Last update", "Last reply by"):
        assert f'data-label="{label}"' in newest


def test_the_table_folds_into_cards_on_phones(cast: Cast, open_ticket: OpenTicket) -> None:
    open_ticket()
    assert '<table class="responsive' in html(login(cast.ana).get(URL))


def test_newest_activity_comes_first(cast: Cast, open_ticket: OpenTicket) -> None:
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        old = open_ticket(subject="Viejo")
    with time_machine.travel(start + timedelta(days=1), tick=False):
        new = open_ticket(subject="Nuevo")
    with time_machine.travel(start + timedelta(days=2), tick=False):
        services.ticket_reply(ticket=old, author=cast.agent, body="Hola")
    rows = _rows(html(login(cast.ana).get(URL)))
    assert old.reference in rows[0] and new.reference in rows[1]


def test_the_last_update_is_shown_in_the_customers_time_zone(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    cast.ana.timezone = "Asia/Tokyo"
    cast.ana.save()
    with time_machine.travel(datetime(2026, 3, 1, 18, 30, tzinfo=UTC), tick=False):
        open_ticket()
    page = html(login(cast.ana).get(URL))
    assert 'datetime="2026-03-02T03:30:00+09:00"' in page


def test_filters_by_status_with_counts(cast: Cast, open_ticket: OpenTicket) -> None:
    open_ticket(subject="Abierto uno")
    open_ticket(subject="Abierto dos")
    closed = open_ticket(subject="Cerrado")
    services.ticket_close(ticket=closed, actor=cast.ana)
    open_ticket(customer=cast.otro)
    client = login(cast.ana)
    page = html(client.get(URL))
    assert '<a href="/tickets/" aria-current="true">All (3)</a>' in page
    assert '<a href="/tickets/?estado=open">Open (2)</a>' in page
    assert '<a href="/tickets/?estado=pending">Pending (0)</a>' in page
    assert '<a href="/tickets/?estado=closed">Closed (1)</a>' in page
    filtered = html(client.get(f"{URL}?estado=closed"))
    rows = _rows(filtered)
    assert len(rows) == 1 and closed.reference in rows[0]
    assert 'href="/tickets/?estado=closed" aria-current="true"' in filtered
    assert len(_rows(html(client.get(f"{URL}?estado=nonsense")))) == 3


def test_an_account_without_tickets_is_invited_to_open_one(cast: Cast) -> None:
    page = html(login(cast.ana).get(URL))
    assert 'href="/soporte/abrir/"' in page
    assert "<tbody>" not in page


class TestPagination:
    @pytest.fixture
    def thirty(self, cast: Cast, open_ticket: OpenTicket) -> list[Ticket]:
        return [open_ticket(subject=f"Ticket {n}") for n in range(30)]

    def test_25_per_page(self, cast: Cast, thirty: list[Ticket]) -> None:
        client = login(cast.ana)
        first = html(client.get(URL))
        assert len(_rows(first)) == 25
        assert 'href="?pagina=2"' in first
        second = html(client.get(f"{URL}?pagina=2"))
        assert len(_rows(second)) == 5
        assert thirty[0].reference in second

    @pytest.mark.parametrize(("number", "rows"), [("abc", 25), ("0", 5), ("999", 5), ("", 25)])
    def test_an_invalid_page_number_shows_the_first_or_the_last_page(
        self, cast: Cast, thirty: list[Ticket], number: str, rows: int
    ) -> None:
        response = login(cast.ana).get(f"{URL}?pagina={number}")
        assert response.status_code == 200
        assert len(_rows(html(response))) == rows

    def test_the_status_filter_is_kept_across_pages(self, cast: Cast, thirty: list[Ticket]) -> None:
        page = html(login(cast.ana).get(f"{URL}?estado=open"))
        assert 'href="?estado=open&amp;pagina=2"' in page


def test_the_list_runs_the_same_number_of_queries_for_5_and_50_tickets(
    cast: Cast, open_ticket: OpenTicket
) -> None:
    def add(count: int) -> None:
        for n in range(count):
            ticket = open_ticket(
                customer=cast.ana if n % 2 else cast.beto,
                service=cast.hosting if n % 3 else None,
                department=cast.soporte if n % 2 else cast.atencion,
            )
            if n % 4 == 0:
                services.ticket_reply(ticket=ticket, author=cast.agent, body="Respuesta")

    client = login(cast.ana)
    add(5)
    few = queries_for(client, URL)
    add(45)
    many = queries_for(client, URL)
    assert few == many
    assert queries_for(client, f"{URL}?pagina=2&estado=open") == many
