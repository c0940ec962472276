"""The console's queues: unassigned, mine, all; their rows, their order and their scope."""

from __future__ import annotations

import pytest

from atiende.accounts.models import Membership
from atiende.console import views_queue
from atiende.tickets import routing, selectors, services
from atiende.tickets.models import Ticket
from tests.conftest import Cast
from tests.console.queue_support import (
    QUEUE,
    OpenTicket,
    at,
    html,
    login,
    queue,
    references,
    rows,
)


class TestUnassigned:
    """The default view: Open tickets nobody took, the customer who waited longest first."""

    def test_lists_open_tickets_nobody_took_oldest_first(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        with at(0):
            taken = open_ticket(subject="Tomado")
            routing.ticket_assign(ticket=taken, assignee=cast.agent, actor=cast.agent)
        with at(1):
            oldest = open_ticket(subject="Primero")
        with at(2):
            answered = open_ticket(subject="Respondido")
            services.ticket_reply(ticket=answered, author=cast.agent, body="Revise esto")
        with at(3):
            newest = open_ticket(subject="Segundo")

        with at(5):
            listed = references(queue(login(cast.agent)))
            default = references(queue(login(cast.agent), vista="sin-asignar"))

        assert listed == default == [oldest.reference, newest.reference]

    def test_the_wait_counts_from_the_customers_last_message(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        with at(0):
            early = open_ticket(subject="Temprano")
        with at(1):
            services.ticket_reply(ticket=early, author=cast.agent, body="¿Qué error ve?")
        with at(2):
            late = open_ticket(subject="Tarde")
        with at(6):
            # Waiting again, since now: behind the one that has waited since hour 2.
            services.ticket_reply(ticket=early, author=cast.ana, body="Sigue igual")

        with at(9):
            page = queue(login(cast.agent))

        assert references(page) == [late.reference, early.reference]
        late_row, early_row = rows(page)
        assert 'data-label="Customer waiting"' in late_row
        assert ">7\xa0hours</time>" in late_row
        assert ">3\xa0hours</time>" in early_row

    def test_when_staff_wrote_last_the_wait_counts_from_the_reopening(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        with at(0):
            answered = open_ticket(subject="Respondido")
            unanswered = open_ticket(subject="Sin respuesta")
        with at(1):
            services.ticket_reply(ticket=answered, author=cast.agent, body="Listo", resolve=True)
            services.ticket_resolve(ticket=unanswered, agent=cast.agent)
        with at(4):
            services.ticket_reopen(ticket=answered, actor=cast.agent)
            services.ticket_reopen(ticket=unanswered, actor=cast.agent)

        with at(6):
            page = queue(login(cast.agent))

        # Resolved without a word: the customer still waits for an answer to his message.
        assert references(page) == [unanswered.reference, answered.reference]
        first, second = rows(page)
        assert ">6\xa0hours</time>" in first
        assert ">2\xa0hours</time>" in second

    def test_an_empty_queue_says_so(self, cast: Cast) -> None:
        page = queue(login(cast.agent))

        assert rows(page) == []
        assert "No open ticket is waiting for someone to take it." in page


class TestMine:
    def test_lists_what_he_is_assigned_or_collaborates_on(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        with at(0):
            assigned = open_ticket(subject="Asignado")
            routing.ticket_assign(ticket=assigned, assignee=cast.agent, actor=cast.agent)
        with at(1):
            helping = open_ticket(subject="Ayudando")
            routing.ticket_assign(ticket=helping, assignee=cast.supervisor, actor=cast.supervisor)
            routing.ticket_collaborator_add(
                ticket=helping, collaborator=cast.agent, actor=cast.agent
            )
        with at(2):
            pending = open_ticket(subject="Pendiente")
            routing.ticket_assign(ticket=pending, assignee=cast.agent, actor=cast.agent)
            services.ticket_reply(ticket=pending, author=cast.agent, body="Espero su respuesta")
        with at(3):
            theirs = open_ticket(subject="De Sara")
            routing.ticket_assign(ticket=theirs, assignee=cast.supervisor, actor=cast.supervisor)
            open_ticket(subject="Libre")

        with at(4):
            mine = references(queue(login(cast.agent), vista="mios"))
            hers = references(queue(login(cast.supervisor), vista="mios"))

        # Every status, latest activity first.
        assert mine == [pending.reference, helping.reference, assigned.reference]
        assert hers == [theirs.reference, helping.reference]

    def test_open_ones_come_oldest_waiting_first(self, cast: Cast, open_ticket: OpenTicket) -> None:
        with at(0):
            first = open_ticket()
            routing.ticket_assign(ticket=first, assignee=cast.agent, actor=cast.agent)
        with at(1):
            second = open_ticket()
            routing.ticket_assign(ticket=second, assignee=cast.agent, actor=cast.agent)

        with at(2):
            page = queue(login(cast.agent), vista="mios", estado="open")

        assert references(page) == [first.reference, second.reference]


class TestAll:
    def test_lists_every_status_latest_activity_first(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        with at(0):
            closed = open_ticket(subject="Cerrado")
            services.ticket_close(ticket=closed, actor=cast.ana)
        with at(1):
            resolved = open_ticket(subject="Resuelto")
        with at(2):
            taken = open_ticket(subject="Tomado")
            routing.ticket_assign(ticket=taken, assignee=cast.supervisor, actor=cast.supervisor)
        with at(3):
            services.ticket_reply(ticket=resolved, author=cast.agent, body="Listo", resolve=True)

        with at(4):
            listed = references(queue(login(cast.agent), vista="todos"))

        assert listed == [resolved.reference, taken.reference, closed.reference]


class TestRows:
    def test_each_row_says_who_what_where_and_since_when(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        with at(0):
            ticket = open_ticket(customer=cast.beto, subject="Falla <b>grave</b>")
            routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
            routing.ticket_collaborator_add(
                ticket=ticket, collaborator=cast.supervisor, actor=cast.supervisor
            )
            routing.ticket_collaborator_add(
                ticket=ticket, collaborator=cast.admin, actor=cast.admin
            )

        with at(3):
            page = queue(login(cast.agent), vista="todos")

        assert '<table class="responsive tickets queue">' in page
        (row,) = rows(page)
        link = f'<a href="/consola/tickets/{ticket.reference}/">'
        assert f'class="ref">{link}{ticket.reference}</a>' in row
        assert f"{link}Falla &lt;b&gt;grave&lt;/b&gt;</a>" in row
        assert "<b>grave" not in page
        assert "Beto Ruiz" in row and "beto@example.com" in row
        assert cast.soporte.name in row
        assert '<span class="badge badge-open">Open</span>' in row
        assert 'class="assignee">Laura Agente</td>' in row
        assert 'class="collaborators">2</td>' in row
        assert ">3\xa0hours ago</time>" in row
        for label in (
            "ID",
            "Subject",
            "Customer",
            "Department",
            "Status",
            "Assigned to",
            "Collaborators",
            "Last update",
            "Customer waiting",
        ):
            assert f'data-label="{label}"' in row

    def test_only_an_open_ticket_shows_a_wait(self, cast: Cast, open_ticket: OpenTicket) -> None:
        ticket = open_ticket()
        services.ticket_reply(ticket=ticket, author=cast.agent, body="Hola")

        (row,) = rows(queue(login(cast.agent), vista="todos"))

        assert 'class="waiting"></td>' in row
        assert 'class="assignee"><span class="muted">Nobody</span></td>' in row

    def test_fifty_to_a_page_and_the_pages_keep_the_filters(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        for hour in range(51):
            with at(hour):
                open_ticket(subject=f"Ticket {hour}")
        client = login(cast.agent)

        first = queue(client, vista="todos", departamento="soporte-tecnico")
        second = queue(client, vista="todos", departamento="soporte-tecnico", pagina="2")
        beyond = queue(client, vista="todos", departamento="soporte-tecnico", pagina="99")
        nonsense = client.get(QUEUE, {"pagina": "x"})

        assert len(rows(first)) == 50 and len(rows(second)) == 1
        assert "51 tickets" in first
        assert 'href="?vista=todos&amp;departamento=soporte-tecnico&amp;pagina=2"' in first
        assert rows(beyond) == rows(second)
        assert nonsense.status_code == 200


class TestCounts:
    def test_counts_every_status_of_each_of_his_departments(
        self, cast: Cast, open_ticket: OpenTicket
    ) -> None:
        open_ticket()
        open_ticket()
        taken = open_ticket()
        routing.ticket_assign(ticket=taken, assignee=cast.agent, actor=cast.agent)
        pending = open_ticket()
        services.ticket_reply(ticket=pending, author=cast.agent, body="Hola")
        closed = open_ticket()
        services.ticket_close(ticket=closed, actor=cast.ana)
        open_ticket(department=cast.operaciones, subject="De operaciones")

        page = queue(login(cast.agent))
        counts = page.split('class="responsive counts"', 1)[1].split("</table>", 1)[0]

        assert cast.soporte.name in counts
        assert cast.operaciones.name not in counts
        assert 'estado=open">3</a>' in counts
        assert 'estado=pending">1</a>' in counts
        assert 'estado=resolved">0</a>' in counts
        assert 'estado=closed">1</a>' in counts
        assert 'vista=sin-asignar&amp;departamento=soporte-tecnico">2</a>' in counts

    def test_closed_tickets_are_counted_up_to_the_cap_then_marked_as_more(
        self, cast: Cast, open_ticket: OpenTicket, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Years of closed tickets must not make every queue view count them all."""
        monkeypatch.setattr(selectors, "COUNT_CAP", 2)
        monkeypatch.setattr(views_queue, "COUNT_CAP", 2)
        for _n in range(3):
            services.ticket_close(ticket=open_ticket(), actor=cast.ana)
        services.ticket_close(ticket=open_ticket(department=cast.atencion), actor=cast.ana)
        open_ticket()
        supervisor = login(cast.supervisor)

        counts = queue(supervisor).split('class="responsive counts"', 1)[1].split("</table>")[0]
        soporte, atencion = (
            counts.split(f"departamento={each.slug}&amp;estado=closed", 1)[1].split("</a>")[0]
            for each in (cast.soporte, cast.atencion)
        )
        listed = queue(supervisor, vista="todos", estado="closed", departamento="soporte-tecnico")
        everything = queue(supervisor, vista="todos", departamento="soporte-tecnico")

        assert soporte.endswith(">2+") and 'title="More than 2' in soporte
        assert atencion.endswith('">1') and "title" not in atencion
        assert 'estado=open">1</a>' in counts  # the working statuses: exact, as before
        assert "More than 2 tickets" in listed and len(rows(listed)) == 2
        assert "More than 2 tickets" in everything

    def test_under_the_cap_the_total_is_exact(
        self, cast: Cast, open_ticket: OpenTicket, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(views_queue, "COUNT_CAP", 2)
        open_ticket()
        open_ticket()

        page = queue(login(cast.agent))

        assert "2 tickets" in page and "Más de" not in page and "More than" not in page

    def test_a_supervisor_sees_every_department(self, cast: Cast, open_ticket: OpenTicket) -> None:
        open_ticket(department=cast.operaciones)

        page = queue(login(cast.supervisor))
        counts = page.split('class="responsive counts"', 1)[1].split("</table>", 1)[0]

        for department in (cast.soporte, cast.atencion, cast.operaciones):
            assert department.name in counts


class TestScope:
    """An agent never sees a ticket of a department he does not work; supervisors see all."""

    @pytest.fixture
    def tickets(self, cast: Cast, open_ticket: OpenTicket) -> dict[str, str]:
        soporte = open_ticket(subject="Soporte")
        operaciones = open_ticket(department=cast.operaciones, subject="Operaciones")
        atencion = open_ticket(department=cast.atencion, subject="Atención")
        return {
            "soporte": soporte.reference,
            "operaciones": operaciones.reference,
            "atencion": atencion.reference,
        }

    @pytest.mark.parametrize("view", ["sin-asignar", "mios", "todos"])
    def test_each_agent_sees_only_his_departments(
        self, cast: Cast, tickets: dict[str, str], view: str
    ) -> None:
        if view == "mios":
            for agent, name in ((cast.agent, "soporte"), (cast.agent_ops, "operaciones")):
                ticket = Ticket.objects.get(reference=tickets[name])
                routing.ticket_assign(ticket=ticket, assignee=agent, actor=agent)

        support = queue(login(cast.agent), vista=view)
        ops = queue(login(cast.agent_ops), vista=view)

        assert references(support) == [tickets["soporte"]]
        assert references(ops) == [tickets["operaciones"]]
        assert tickets["operaciones"] not in support and "Operaciones</a>" not in support
        assert tickets["atencion"] not in support and tickets["atencion"] not in ops
        assert tickets["soporte"] not in ops and "Soporte</a>" not in ops

    def test_his_tickets_of_a_department_he_left_are_no_longer_his_to_see(
        self, cast: Cast, tickets: dict[str, str]
    ) -> None:
        membership = Membership.objects.create(user=cast.agent, department=cast.operaciones)
        ticket = Ticket.objects.get(reference=tickets["operaciones"])
        routing.ticket_assign(ticket=ticket, assignee=cast.agent, actor=cast.agent)
        assert references(queue(login(cast.agent), vista="mios")) == [ticket.reference]

        membership.delete()

        for view in ("mios", "todos"):
            assert ticket.reference not in queue(login(cast.agent), vista=view)

    @pytest.mark.parametrize("who", ["supervisor", "admin"])
    def test_supervisors_and_administrators_see_every_department(
        self, cast: Cast, tickets: dict[str, str], who: str
    ) -> None:
        listed = references(queue(login(getattr(cast, who)), vista="todos"))

        assert sorted(listed) == sorted(tickets.values())

    def test_another_departments_filter_shows_nothing_of_it(
        self, cast: Cast, tickets: dict[str, str]
    ) -> None:
        page = queue(login(cast.agent), vista="todos", departamento="operaciones")

        assert tickets["operaciones"] not in page
        assert references(page) == [tickets["soporte"]]  # the filter is ignored, not obeyed

    def test_the_page_answers_only_get(self, cast: Cast) -> None:
        assert login(cast.agent).post(QUEUE).status_code == 405

    def test_a_failed_jump_leaves_its_value_in_the_box(self, cast: Cast) -> None:
        page = html(login(cast.agent).get(QUEUE, {"ir": 'ATN-"><script>'}))

        assert 'value="ATN-&quot;&gt;&lt;script&gt;"' in page
