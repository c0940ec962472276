"""`atiende demo`: load the demo data (idempotent), only in demo mode.

Customers cliente@example.com and otro@example.com, agent agente@example.com (Soporte
técnico), supervisor supervisor@example.com, administrator admin@example.com, all with password
`atiende-demo`. Customers have services and tickets in every status, and the agent's queue has
unassigned, assigned and shared tickets with notes: all built through the domain functions as
users would build them; only their timestamps are moved into the past afterwards so the lists
look lived-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from atiende.accounts.models import (
    Account,
    AuthorizedAddress,
    Department,
    Membership,
    Service,
    User,
)
from atiende.core.clock import now
from atiende.tickets import routing, services
from atiende.tickets.models import CannedReply, Event, Message, Ticket

PASSWORD = "atiende-demo"  # noqa: S105  (documented demo password, demo mode only)

CUSTOMERS: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    "cliente@example.com": (
        "Carmen Ruiz",
        "Ruiz Diseño Web",
        [
            ("hosting", "Plan Pyme · midominio.mx", "Pyme"),
            ("domain", "midominio.mx", ""),
            ("domain", "midominio.com.mx", ""),
            ("ssl", "www.midominio.mx", "SSL OV"),
            ("email", "Correo Negocios · midominio.mx", "10 buzones"),
        ],
    ),
    "otro@example.com": (
        "Óscar Treviño",
        "Treviño Consultores",
        [
            ("hosting", "Plan Empresarial · otraempresa.com", "Empresarial"),
            ("domain", "otraempresa.com", ""),
        ],
    ),
    "laura@cafeteria-sol.mx": (
        "Laura Sol",
        "Cafetería Sol",
        [
            ("hosting", "Plan Básico · cafeteria-sol.mx", "Básico"),
            ("domain", "cafeteria-sol.mx", ""),
        ],
    ),
    "jorge@ferreteria-norte.com": (
        "Jorge Núñez",
        "Ferretería del Norte",
        [
            ("hosting", "Plan Pyme · ferreteria-norte.com", "Pyme"),
            ("email", "Correo · ferreteria-norte.com", "5 buzones"),
        ],
    ),
}


@dataclass
class Story:
    """One ticket's life: who opened it, where, and what happened next, in order."""

    customer: str
    subject: str
    department: str
    service: str | None
    body: str
    days_ago: int
    steps: list[tuple[str, str]] = field(default_factory=list)


STORIES = [
    Story(
        "cliente@example.com",
        "No puedo enviar correos desde Outlook",
        "soporte-tecnico",
        "Correo Negocios · midominio.mx",
        "Desde esta mañana Outlook me marca error al enviar: 'El servidor SMTP rechazó la "
        "conexión'. Recibir sí funciona.\n\nUso el puerto 587 con TLS.",
        0,
    ),
    Story(
        "cliente@example.com",
        "Cambiar el dominio principal del hosting",
        "soporte-tecnico",
        "Plan Pyme · midominio.mx",
        "Quiero que el dominio principal de mi plan sea midominio.com.mx en lugar de "
        "midominio.mx. ¿Qué pasos debo seguir?",
        1,
        [
            ("assign", "agente@example.com"),
            ("note", "El cambio requiere mover el docroot; revisar antes el .htaccess."),
            (
                "reply",
                "Hola Carmen, podemos hacer el cambio hoy mismo. ¿Nos confirmas si "
                "quieres conservar el dominio actual como alias?",
            ),
        ],
    ),
    Story(
        "cliente@example.com",
        "Factura de renovación duplicada",
        "atencion-a-clientes",
        None,
        "Me llegaron dos cargos por la renovación anual del hosting.",
        2,
        [
            (
                "reply_resolve",
                "Revisamos tu cuenta: el segundo cargo ya fue reembolsado, lo "
                "verás en 3 a 5 días hábiles.",
            )
        ],
    ),
    Story(
        "cliente@example.com",
        "Emisión de certificado SSL de paga",
        "operaciones",
        "www.midominio.mx",
        "Compré el certificado SSL OV y no he recibido el correo de validación.",
        20,
        [
            ("reply", "El certificado ya fue emitido e instalado en tu servidor."),
            ("customer_close", ""),
        ],
    ),
    Story(
        "cliente@example.com",
        "Registros DNS para Google Workspace",
        "soporte-tecnico",
        "midominio.mx",
        "Necesito agregar los registros MX y TXT de Google Workspace a mi dominio.",
        3,
        [
            ("assign", "agente@example.com"),
            (
                "reply",
                "Agregamos los registros MX. Falta el TXT de verificación: ¿nos lo compartes?",
            ),
            ("customer_reply", "Claro, es google-site-verification=abc123xyz."),
        ],
    ),
    Story(
        "otro@example.com",
        "Transferencia de dominio otraempresa.com",
        "operaciones",
        "otraempresa.com",
        "Quiero transferir mi dominio desde otro registrador. Ya tengo el código EPP.",
        1,
        [("reply", "Recibimos el código; la transferencia tarda hasta 5 días.")],
    ),
    Story(
        "otro@example.com",
        "Upgrade de plan de hosting",
        "atencion-a-clientes",
        None,
        "Quisiera pasar al plan Empresarial este mes.",
        0,
    ),
    Story(
        "otro@example.com",
        "Error 500 después de actualizar WordPress",
        "soporte-tecnico",
        "Plan Empresarial · otraempresa.com",
        "Actualicé WordPress a la última versión y ahora el sitio muestra Error 500.",
        2,
    ),
    Story(
        "laura@cafeteria-sol.mx",
        "El sitio tarda mucho en cargar",
        "soporte-tecnico",
        "Plan Básico · cafeteria-sol.mx",
        "Desde el lunes la página de la cafetería tarda más de 10 segundos en abrir.",
        4,
        [
            ("assign", "supervisor@example.com"),
            ("collaborate", "agente@example.com"),
            ("note", "El plan Básico llegó al límite de procesos; proponer upgrade."),
            (
                "reply",
                "Hola Laura, tu plan llegó a su límite de procesos. Te recomendamos el "
                "plan Pyme; mientras tanto activamos caché.",
            ),
        ],
    ),
    Story(
        "jorge@ferreteria-norte.com",
        "No recibo correos en ventas@",
        "soporte-tecnico",
        "Correo · ferreteria-norte.com",
        "El buzón ventas@ferreteria-norte.com no recibe correos desde ayer.",
        1,
    ),
    Story(
        "jorge@ferreteria-norte.com",
        "Certificado SSL vencido",
        "soporte-tecnico",
        "Plan Pyme · ferreteria-norte.com",
        "El navegador dice que mi sitio no es seguro, creo que venció el SSL.",
        6,
        [
            ("assign", "agente@example.com"),
            ("reply", "Renovamos el certificado gratuito; ya debería verse el candado."),
            ("resolve", ""),
        ],
    ),
]

CANNED = [
    (
        "soporte-tecnico",
        "Saludo y diagnóstico",
        "Hola {customer_name}:\n\nGracias por escribirnos sobre el ticket {ticket_id}. Ya estamos "
        "revisando tu caso y te escribimos en cuanto tengamos un diagnóstico.\n\n{agent_name}\n"
        "{department}",
    ),
    (
        "soporte-tecnico",
        "Configuración de correo (SMTP)",
        "Hola {customer_name}:\n\nPara enviar correo usa el servidor SMTP de tu dominio, "
        "puerto 587 "
        "con STARTTLS y tu dirección completa como usuario.\n\nSaludos,\n{agent_name}",
    ),
    (
        "atencion-a-clientes",
        "Reembolso en proceso",
        "Hola {customer_name}:\n\nTu reembolso quedó registrado; lo verás en 3 a 5 días "
        "hábiles.\n\n{agent_name}",
    ),
]


def _user(email: str, name: str, **extra: Any) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email, PASSWORD, full_name=name, email_confirmed_at=now(), **extra
        )
    return user


def _customer(email: str, name: str, account_name: str) -> User:
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing
    account = Account.objects.create(name=account_name)
    user = _user(email, name, account=account)
    AuthorizedAddress.objects.create(
        account=account, email=email, confirmed_at=now(), added_by=user
    )
    return user


class Command(BaseCommand):
    help = "Load the demo data (customers, staff, services, tickets). Demo mode only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("Demo data is loaded only in demo mode (ATIENDE_DEMO=1).")
        with transaction.atomic():
            created = self._load()
        self.stdout.write(
            self.style.SUCCESS("Demo data ready." if created else "Demo data already present.")
        )

    def _load(self) -> bool:
        if User.objects.filter(email="cliente@example.com").exists():
            return False
        soporte = Department.objects.get(slug="soporte-tecnico")
        agent = _user("agente@example.com", "Laura Méndez", is_staff=True)
        Membership.objects.get_or_create(user=agent, department=soporte)
        supervisor = _user("supervisor@example.com", "Sergio Campos", is_staff=True)
        Membership.objects.get_or_create(
            user=supervisor, department=soporte, defaults={"role": Membership.Role.SUPERVISOR}
        )
        _user("admin@example.com", "Administración", is_staff=True, is_superuser=True)
        for email, (name, account_name, rows) in CUSTOMERS.items():
            customer = _customer(email, name, account_name)
            for kind, service_name, plan in rows:
                Service.objects.get_or_create(
                    account=customer.account,
                    kind=kind,
                    name=service_name,
                    defaults={"plan": plan},
                )
        for slug, title, body in CANNED:
            CannedReply.objects.get_or_create(
                department=Department.objects.get(slug=slug),
                title=title,
                defaults={"body": body},
            )
        for story in STORIES:
            self._tell(story, agent)
        return True

    def _tell(self, story: Story, agent: User) -> None:
        customer = User.objects.get(email=story.customer)
        ticket = services.ticket_open(
            customer=customer,
            department=Department.objects.get(slug=story.department),
            subject=story.subject,
            body=story.body,
            service=(
                Service.objects.filter(account=customer.account, name=story.service).first()
                if story.service
                else None
            ),
        )
        for step, text in story.steps:
            if step == "assign":
                who = User.objects.get(email=text)
                routing.ticket_assign(ticket=ticket, assignee=who, actor=who)
            elif step == "collaborate":
                who = User.objects.get(email=text)
                routing.ticket_collaborator_add(ticket=ticket, collaborator=who, actor=who)
            elif step == "note":
                services.ticket_add_note(ticket=ticket, agent=agent, body=text)
            elif step in ("reply", "reply_resolve"):
                services.ticket_reply(
                    ticket=ticket, author=agent, body=text, resolve=step == "reply_resolve"
                )
            elif step == "customer_reply":
                services.ticket_reply(ticket=ticket, author=customer, body=text)
            elif step == "resolve":
                services.ticket_resolve(ticket=ticket, agent=agent)
            elif step == "customer_close":
                services.ticket_close(ticket=ticket, actor=customer)
        self._age(ticket, story.days_ago)

    def _age(self, ticket: Ticket, days: int) -> None:
        """Move the ticket's whole history `days` back, keeping its order and spacing."""
        shift = timedelta(days=days, hours=2 * days + 1)
        for model in (Message, Event):
            for row in model.objects.filter(ticket=ticket):
                model.objects.filter(pk=row.pk).update(created_at=row.created_at - shift)
        ticket.refresh_from_db()
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=ticket.created_at - shift,
            updated_at=ticket.updated_at - shift + timedelta(hours=days),
            status_changed_at=ticket.status_changed_at - shift + timedelta(hours=days),
        )
