"""Realistic data for the benchmarks: a hosting company's years of tickets, written fast.

`dataset_generate(tickets)` (in a process where Django is set up, on a migrated database)
writes, with a progress bar on standard error:

- accounts: one for every TICKETS_PER_ACCOUNT tickets on average (a few tickets for most, many
  for some), each with a holder and sometimes a second user, and 1 to 5 services (hosting,
  domains, SSL certificates, mailboxes) named after its domain; seven in ten speak Spanish;
- AGENTS agents over the three departments, some of them in two;
- the tickets, spread over YEARS years and numbered in the order they were opened, each in a
  department (technical support the busiest), in its customer's language (subjects and bodies
  made of sentences about DNS, SSL, mail, domains, invoices...), by web, e-mail or API; 1 to 10
  messages each (MESSAGES_PER_TICKET on average), the customer and the staff in turn, some
  internal notes; their status follows their age: the last week's are open, pending or
  resolved, older ones closed (but for a few left behind); most assigned to an agent;
- the events the services write for that history: `created`, one `message` per message, and
  the status changes.

The rows go in with the database's bulk path (executemany on SQLite, COPY on PostgreSQL), with
their ids given, a batch of tickets with their messages and events per transaction; the search
index's triggers index them as they would the application's writes. Nothing else about the
application is bypassed: the pages read these rows as their own.

The same `tickets` and `seed` give the same data.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

TICKETS_PER_ACCOUNT = 20
MESSAGES_PER_TICKET = 4
AGENTS = 18
YEARS = 5
BATCH = 5000  # tickets per transaction
ACTIVE_DAYS = 7  # tickets younger than this may still be open, pending or resolved
LEFT_BEHIND = 0.002  # the share of older tickets never closed
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
UNUSABLE_PASSWORD = "!"  # noqa: S105 (what create_user(password=None) stores)

# (slug, share of the tickets)
DEPARTMENTS = [("soporte-tecnico", 45), ("atencion-a-clientes", 30), ("operaciones", 25)]
BENCH_CUSTOMER_ACCOUNT = 7  # an account of ordinary size, Spanish speaking (see _account_sizes)
BENCH_AGENT = "agente0@bench.example"  # technical support only

FIRST_NAMES = [
    "María",
    "Juan",
    "Ana",
    "Luis",
    "Carmen",
    "José",
    "Laura",
    "Carlos",
    "Sofía",
    "Miguel",
    "Lucía",
    "Javier",
    "Elena",
    "Pedro",
    "Paula",
    "Diego",
    "Marta",
    "Andrés",
    "Valeria",
    "Jorge",
    "Emma",
    "Oliver",
    "Grace",
    "Henry",
    "Alice",
    "Daniel",
    "Chloe",
]
LAST_NAMES = [
    "García",
    "Martínez",
    "López",
    "Hernández",
    "González",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flores",
    "Rivera",
    "Gómez",
    "Díaz",
    "Cruz",
    "Morales",
    "Reyes",
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Clark",
    "Walker",
]
WORDS = [
    "norte",
    "sol",
    "luna",
    "mar",
    "rio",
    "monte",
    "valle",
    "cielo",
    "fuego",
    "piedra",
    "verde",
    "azul",
    "rojo",
    "bosque",
    "nube",
    "tienda",
    "viajes",
    "foto",
    "cafe",
    "dental",
    "taller",
    "moda",
    "libros",
    "musica",
    "casa",
    "auto",
    "arte",
    "salud",
    "vida",
]
TLDS = ("com", "mx", "com.mx", "es", "net", "org", "co")
PLANS = ("Básico", "Personal", "Negocio", "Empresarial", "Reseller")

SUBJECTS = {
    "es": [
        "No puedo acceder al panel de {domain}",
        "El sitio {domain} no carga",
        "Renovación del dominio {domain}",
        "Transferencia del dominio {domain}",
        "Certificado SSL vencido en {domain}",
        "Instalar certificado SSL para {domain}",
        "No llegan los correos de {email}",
        "Configurar el correo {email} en Outlook",
        "Error 500 en {domain}",
        "Cambiar los registros DNS de {domain}",
        "Factura del mes duplicada",
        "Cambio de plan de hosting",
        "Solicitud de respaldo de {domain}",
        "Mi página aparece como sitio peligroso",
        "Consulta sobre el pago con tarjeta",
        "El buzón {email} está lleno",
    ],
    "en": [
        "Cannot log in to the control panel for {domain}",
        "Website {domain} is down",
        "Renewal of the domain {domain}",
        "Transfer {domain} to another registrar",
        "SSL certificate expired on {domain}",
        "Emails to {email} bounce",
        "Set up {email} on my phone",
        "500 error on {domain}",
        "Update the DNS records of {domain}",
        "Invoice charged twice",
        "Upgrade my hosting plan",
        "Restore a backup of {domain}",
    ],
}
CUSTOMER_SENTENCES = {
    "es": [
        "Hola, desde ayer el sitio {domain} no carga y muestra un error de conexión.",
        "Al entrar al panel me dice que la contraseña es incorrecta, aunque la cambié hoy.",
        "Los correos que me envían a {email} no están llegando, pero sí puedo enviar.",
        "Necesito renovar el dominio {domain} antes de que venza el próximo mes.",
        "El navegador indica que el certificado SSL de {domain} no es válido.",
        "Quiero cambiar los registros DNS para apuntar el dominio a otro servidor.",
        "Ya revisé la configuración en Outlook y el puerto es el 465 con SSL.",
        "Me llegó una factura duplicada por el mismo servicio de hosting.",
        "¿Pueden restaurar el respaldo de la base de datos de hace dos días?",
        "Les adjunto la captura de pantalla del error que aparece.",
        "El sitio es una tienda en línea y estamos perdiendo ventas.",
        "¿Cuánto tarda la propagación del dominio después del cambio?",
        "Quisiera pasar al plan {plan} porque el espacio ya no me alcanza.",
        "El buzón dice que superó la cuota de almacenamiento.",
        "Gracias, ya funciona correctamente. Pueden cerrar el ticket.",
        "Sigue sin funcionar, el error es el mismo que ayer.",
        "Hice el pago por transferencia bancaria, adjunto el comprobante.",
        "Instalé WordPress y ahora la página muestra un error 500.",
    ],
    "en": [
        "Hi, since yesterday {domain} does not load and shows a connection error.",
        "The control panel says my password is wrong although I reset it today.",
        "Emails sent to {email} never arrive, but I can send without problems.",
        "I need to renew {domain} before it expires next month.",
        "The browser says the SSL certificate of {domain} is not valid.",
        "I want to change the DNS records so the domain points to another server.",
        "I was charged twice for the same hosting invoice this month.",
        "Could you restore the database backup from two days ago?",
        "The site is an online shop and we are losing orders.",
        "Thanks, it works now. You can close the ticket.",
        "It still fails with the same error as yesterday.",
        "I installed WordPress and now the page shows a 500 error.",
    ],
}
AGENT_SENTENCES = {
    "es": [
        "Hola, gracias por escribirnos. Ya revisamos el servidor de {domain}.",
        "El certificado SSL de {domain} se renovó y ya está instalado.",
        "Encontramos que los registros MX del dominio apuntaban a otro proveedor.",
        "Restablecimos la contraseña del panel; le llegará un correo con el enlace.",
        "El dominio {domain} quedó renovado por un año más.",
        "La propagación de los DNS puede tardar hasta 24 horas.",
        "Aumentamos la cuota del buzón {email} a 5 GB.",
        "El error 500 se debía a un plugin; lo desactivamos y el sitio ya carga.",
        "Anulamos la factura duplicada y el saldo queda a su favor.",
        "Restauramos el respaldo de la base de datos solicitado.",
        "¿Nos puede confirmar si el problema continúa?",
        "Quedamos atentos a sus comentarios.",
    ],
    "en": [
        "Hello, thanks for contacting us. We checked the server of {domain}.",
        "The SSL certificate of {domain} was renewed and installed.",
        "The MX records of the domain pointed to another provider; we fixed them.",
        "We reset your control panel password; you will get an email with the link.",
        "DNS propagation can take up to 24 hours.",
        "The 500 error came from a plugin; we disabled it and the site loads again.",
        "We cancelled the duplicate invoice and refunded the charge.",
        "Could you confirm whether the problem persists?",
    ],
}
NOTES = [
    "Revisado en el servidor web: el disco estaba al 98 %.",
    "Cliente con pagos atrasados, consultar con facturación antes de activar.",
    "Escalado al proveedor del certificado.",
    "Checked the mail logs: messages rejected by SPF.",
]


@dataclass(frozen=True)
class Generated:
    tickets: int
    messages: int
    events: int
    accounts: int
    users: int
    services: int


def _reference(n: int) -> str:
    """A unique reference per n, spread like random ones (an odd multiplier is a bijection
    modulo 32**8), in the application's format."""
    from atiende.core.references import prefix

    value = (n * 0x9E3779B1 + 0x5BD1E995) % 32**8
    body = "".join(ALPHABET[(value >> (5 * k)) & 31] for k in range(8))
    return f"{prefix()}-{body[:4]}-{body[4:]}"


def _account_sizes(rng: random.Random, tickets: int) -> list[int]:
    """Tickets per account: most have few, some many; TICKETS_PER_ACCOUNT on average."""
    sizes: list[int] = []
    left = tickets
    while left > 0:
        size = min(left, max(1, int(rng.expovariate(1 / TICKETS_PER_ACCOUNT))))
        sizes.append(size)
        left -= size
    return sizes


def _message_count(rng: random.Random) -> int:
    """1 to 10, MESSAGES_PER_TICKET on average."""
    return min(10, 1 + int(rng.expovariate(1 / (MESSAGES_PER_TICKET - 0.25))))


class _Writer:
    """Rows into tables by the database's fastest way; one transaction per flush."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.vendor = connection.vendor
        self.rows: dict[str, tuple[Sequence[str], list[tuple[Any, ...]]]] = {}
        # Parents first: on SQLite a message's search trigger reads its ticket's row.
        self.order = [
            "accounts_account", "accounts_user", "accounts_service",
            "tickets_ticket", "tickets_message", "tickets_event",
        ]  # fmt: skip

    def add(self, table: str, columns: Sequence[str], row: tuple[Any, ...]) -> None:
        self.rows.setdefault(table, (columns, []))[1].append(row)

    def value(self, value: Any) -> Any:
        """A Python value as this database's driver takes it in our raw statements."""
        if self.vendor == "sqlite":
            if isinstance(value, datetime):
                return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            if isinstance(value, uuid.UUID):
                return value.hex
            if isinstance(value, bool):
                return int(value)
        return value

    def flush(self) -> None:
        from django.db import transaction

        with transaction.atomic():
            raw = self.connection.connection
            for table in sorted(self.rows, key=self.order.index):
                columns, rows = self.rows[table]
                names = ", ".join(columns)
                if self.vendor == "sqlite":
                    marks = ", ".join("?" for _column in columns)
                    insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
                    raw.executemany(insert, rows)
                else:
                    copy_sql = f"COPY {table} ({names}) FROM STDIN"
                    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                        for row in rows:
                            copy.write_row(row)
        self.rows.clear()


def _next_id(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
    return int(cursor.fetchone()[0])


def _sequences_reset(connection: Any, tables: Sequence[str]) -> None:
    """PostgreSQL's identity sequences past the ids given (SQLite's AUTOINCREMENT follows by
    itself)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            sql = (
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
            cursor.execute(sql)


def _text(rng: random.Random, sentences: list[str], count: int, **names: str) -> str:
    return " ".join(rng.choice(sentences).format(**names) for _n in range(count))


def dataset_generate(tickets: int, *, seed: int = 1, progress: bool = True) -> Generated:
    """Write `tickets` tickets and all around them; see the module's docstring."""
    from django.db import connection, transaction
    from tqdm import tqdm

    from atiende.accounts.models import Department, Membership, User
    from atiende.tickets.lifecycle import Action, Status
    from atiende.tickets.models import ActorKind, Channel, Event

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365 * YEARS)
    span = (now - start).total_seconds()
    departments = {each.slug: each for each in Department.objects.all()}
    department_ids = [departments[slug].pk for slug, _share in DEPARTMENTS]
    department_weights = [share for _slug, share in DEPARTMENTS]

    # Agents: six for each department, three of them in a second one as well.
    with transaction.atomic():
        agents: list[User] = []
        for n in range(AGENTS):
            agent = User.objects.create_user(
                f"agente{n}@bench.example",
                None,
                is_staff=True,
                full_name=f"{FIRST_NAMES[n % len(FIRST_NAMES)]} (soporte)",
            )
            agents.append(agent)
            home = department_ids[n % len(department_ids)]
            Membership.objects.create(user=agent, department_id=home)
            if n >= len(department_ids) and n % 6 == 5:
                other = department_ids[(n + 1) % len(department_ids)]
                Membership.objects.create(user=agent, department_id=other)
    staff_of: dict[int, list[User]] = {pk: [] for pk in department_ids}
    for membership in Membership.objects.filter(user__in=agents):
        staff_of[membership.department_id].append(
            next(agent for agent in agents if agent.pk == membership.user_id)
        )

    writer = _Writer(connection)
    if connection.vendor == "sqlite":
        # A page cache large enough for the indexes being filled (the default is 2 MB): this
        # connection's only, the application's own settings are untouched.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1000000")
    with connection.cursor() as cursor:
        ids = {
            table: _next_id(cursor, table)
            for table in (
                "accounts_account",
                "accounts_user",
                "accounts_service",
                "tickets_ticket",
                "tickets_message",
                "tickets_event",
            )
        }
    first_ids = dict(ids)

    def next_id(table: str) -> int:
        value = ids[table]
        ids[table] = value + 1
        return value

    account_columns = ("id", "public_id", "name", "external_id", "created_at", "is_active")
    user_columns = (
        "id", "password", "is_superuser", "email", "full_name", "account_id", "is_staff",
        "is_active", "email_confirmed_at", "language", "timezone", "date_joined",
    )  # fmt: skip
    service_columns = (
        "id", "account_id", "kind", "name", "plan", "status", "external_id", "created_at",
    )  # fmt: skip
    ticket_columns = (
        "id", "reference", "account_id", "customer_id", "department_id", "service_id",
        "subject", "status", "assignee_id", "channel", "created_at", "updated_at", "changed_at",
        "last_author_kind", "last_author_name", "status_changed_at", "auto_close_at",
    )  # fmt: skip
    message_columns = (
        "id", "public_id", "ticket_id", "author_id", "author_kind", "is_internal", "body",
        "quoted", "body_html", "sender_email", "channel", "created_at",
    )  # fmt: skip
    event_columns = (
        "id", "ticket_id", "kind", "action", "actor_id", "actor_kind", "old_status",
        "new_status", "reason", "data", "created_at",
    )  # fmt: skip
    v = writer.value
    service_kinds = ("hosting", "domain", "ssl", "email")
    channels = (Channel.WEB, Channel.EMAIL, Channel.API)
    messages = events = users = services = 0

    sizes = _account_sizes(rng, tickets)
    bar = tqdm(total=tickets, unit="tickets", desc="tickets", disable=not progress, smoothing=0.1)
    number = 0  # tickets written so far: the position in time
    for index, size in enumerate(sizes):
        language = "es" if rng.random() < 0.7 or index == BENCH_CUSTOMER_ACCOUNT else "en"
        if index == BENCH_CUSTOMER_ACCOUNT:
            size = max(size, TICKETS_PER_ACCOUNT)
        domain = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{index}.{rng.choice(TLDS)}"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        opened = start + timedelta(seconds=span * number / tickets) - timedelta(days=30)
        account_id = next_id("accounts_account")
        writer.add(
            "accounts_account",
            account_columns,
            (account_id, v(uuid.UUID(int=rng.getrandbits(128), version=4)),
             f"{first} {last}" if rng.random() < 0.6 else domain.split(".")[0].title() + " S.A.",
             f"CLI-{index:07d}", v(opened), v(True)),
        )  # fmt: skip
        people: list[tuple[int, str, str]] = []  # (id, name, e-mail)
        for person in range(1 if rng.random() < 0.8 else 2):
            name = f"{first} {last}" if person == 0 else f"{rng.choice(FIRST_NAMES)} {last}"
            email = f"{'contacto' if person == 0 else 'admin'}@{domain}"
            user_id = next_id("accounts_user")
            users += 1
            writer.add(
                "accounts_user",
                user_columns,
                (user_id, UNUSABLE_PASSWORD, v(False), email, name, account_id, v(False), v(True),
                 v(opened), language, "America/Mexico_City", v(opened)),
            )  # fmt: skip
            people.append((user_id, name, email))
        account_services: list[tuple[int, str]] = []  # (id, name)
        for kind in service_kinds[: rng.randint(1, 4)] + (("email",) if rng.random() < 0.2 else ()):
            service_id = next_id("accounts_service")
            services += 1
            name = domain if kind != "email" else f"contacto@{domain}"
            writer.add(
                "accounts_service",
                service_columns,
                (service_id, account_id, kind, name,
                 rng.choice(PLANS) if kind == "hosting" else "", "active",
                 f"SRV-{service_id:08d}", v(opened)),
            )  # fmt: skip
            account_services.append((service_id, name))

        for _t in range(size):
            created = start + timedelta(seconds=span * number / tickets + rng.random() * 600)
            number += 1
            ticket_id = next_id("tickets_ticket")
            customer_id, customer_name, customer_email = rng.choice(people)
            department_id = rng.choices(department_ids, department_weights)[0]
            staff = staff_of[department_id]
            channel = rng.choices(channels, (60, 35, 5))[0]
            service = rng.choice(account_services) if rng.random() < 0.7 else None
            names = {
                "domain": domain,
                "email": customer_email,
                "plan": rng.choice(PLANS),
            }
            subject = rng.choice(SUBJECTS[language]).format(**names)
            age = now - created
            if age < timedelta(days=ACTIVE_DAYS):
                status = rng.choices(
                    (Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED), (35, 30, 20, 15)
                )[0]
            elif rng.random() < LEFT_BEHIND:
                status = rng.choice((Status.OPEN, Status.PENDING))
            else:
                status = Status.CLOSED
            assignee = rng.choice(staff) if status == Status.CLOSED or rng.random() < 0.7 else None
            replier = assignee or rng.choice(staff)

            moment = created
            author_kind = ActorKind.CUSTOMER
            author_name = customer_name
            events += 1
            writer.add(
                "tickets_event",
                event_columns,
                (next_id("tickets_event"), ticket_id, Event.Kind.CREATED, "", customer_id,
                 ActorKind.CUSTOMER, "", Status.OPEN, "", json.dumps({"channel": channel}),
                 v(created)),
            )  # fmt: skip
            wanted = _message_count(rng)
            if status == Status.PENDING and wanted % 2:
                wanted += 1  # pending: the staff answered last
            for n in range(wanted):
                customer_turn = n % 2 == 0
                internal = not customer_turn and rng.random() < 0.05
                if customer_turn:
                    author_id, author_kind, author_name = (
                        customer_id,
                        ActorKind.CUSTOMER,
                        (customer_name),
                    )
                    body = _text(rng, CUSTOMER_SENTENCES[language], rng.randint(2, 4), **names)
                    sender = customer_email if channel == Channel.EMAIL else ""
                    message_channel = channel
                else:
                    author_id, author_kind, author_name = (
                        replier.pk,
                        ActorKind.AGENT,
                        (replier.full_name),
                    )
                    body = (
                        rng.choice(NOTES)
                        if internal
                        else _text(rng, AGENT_SENTENCES[language], rng.randint(2, 4), **names)
                    )
                    sender, message_channel = "", Channel.WEB
                if n:
                    moment += timedelta(minutes=rng.randint(5, 60 * 30))
                message_id = next_id("tickets_message")
                public_id = uuid.UUID(int=rng.getrandbits(128), version=4)
                messages += 1
                writer.add(
                    "tickets_message",
                    message_columns,
                    (message_id, v(public_id), ticket_id, author_id, author_kind, v(internal),
                     body, "", "", sender, message_channel, v(moment)),
                )  # fmt: skip
                events += 1
                writer.add(
                    "tickets_event",
                    event_columns,
                    (next_id("tickets_event"), ticket_id, Event.Kind.MESSAGE, "", author_id,
                     author_kind, "", "", "",
                     json.dumps({"message": str(public_id), "internal": internal}), v(moment)),
                )  # fmt: skip
            changed = moment
            if status in (Status.PENDING, Status.RESOLVED, Status.CLOSED):
                steps = [(Status.OPEN, Status.RESOLVED if status != Status.PENDING else status)]
                if status == Status.CLOSED:
                    steps.append((Status.RESOLVED, Status.CLOSED))
                for old, new in steps:
                    changed += timedelta(minutes=rng.randint(1, 60 * 48))
                    system = new == Status.CLOSED
                    action = (
                        Action.SYSTEM_AUTO_CLOSE
                        if system
                        else Action.AGENT_RESOLVE
                        if new == Status.RESOLVED
                        else Action.AGENT_REPLY
                    )
                    events += 1
                    writer.add(
                        "tickets_event",
                        event_columns,
                        (next_id("tickets_event"), ticket_id, Event.Kind.STATUS, action,
                         None if system else replier.pk,
                         ActorKind.SYSTEM if system else ActorKind.AGENT, old, new, "", "{}",
                         v(changed)),
                    )  # fmt: skip
            if changed > now:
                changed = now - timedelta(seconds=rng.randint(1, 3600))
            auto_close = changed + timedelta(hours=72) if status == Status.RESOLVED else None
            writer.add(
                "tickets_ticket",
                ticket_columns,
                (ticket_id, _reference(ticket_id), account_id, customer_id, department_id,
                 service[0] if service else None, subject[:200], status,
                 assignee.pk if assignee else None, channel, v(created), v(moment), v(changed),
                 author_kind, author_name, v(changed), v(auto_close) if auto_close else None),
            )  # fmt: skip
            bar.update()
            if number % BATCH == 0:
                writer.flush()
    writer.flush()
    bar.close()
    _sequences_reset(connection, list(first_ids))
    return Generated(
        tickets=number,
        messages=messages,
        events=events,
        accounts=len(sizes),
        users=users,
        services=services,
    )


def bench_people() -> tuple[Any, Any]:
    """The customer and the agent the benchmarks act as: an ordinary Spanish-speaking
    account's holder, and an agent of technical support (the busiest department)."""
    from atiende.accounts.models import User

    customer = (
        User.objects.filter(account__external_id=f"CLI-{BENCH_CUSTOMER_ACCOUNT:07d}")
        .order_by("pk")
        .first()
    )
    agent = User.objects.get(email=BENCH_AGENT)
    return customer, agent
