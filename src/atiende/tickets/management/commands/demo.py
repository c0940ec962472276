"""`atiende demo`: load the demo data (idempotent), only in demo mode.

Customers cliente@example.com and otro@example.com, agent agente@example.com (Soporte
técnico), administrator admin@example.com, all with password `atiende-demo`. Each customer
has services and tickets in every status, built through the domain services as users would;
only their timestamps are moved into the past afterwards so the lists look lived-in.
"""

from __future__ import annotations

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
from atiende.tickets import services
from atiende.tickets.models import Event, Message, Ticket

PASSWORD = "atiende-demo"  # noqa: S105  (documented demo password, demo mode only)

# (subject, department slug, service name or None, customer message, agent reply or None,
#  final status, days ago)
CLIENTE_TICKETS = [
    (
        "No puedo enviar correos desde Outlook",
        "soporte-tecnico",
        "midominio.mx",
        "Desde esta mañana Outlook me marca error al enviar: 'El servidor SMTP rechazó la "
        "conexión'. Recibir sí funciona.\n\nUso el puerto 587 con TLS.",
        None,
        "open",
        0,
    ),
    (
        "Cambiar el dominio principal del hosting",
        "soporte-tecnico",
        "Plan Pyme · midominio.mx",
        "Quiero que el dominio principal de mi plan sea midominio.com.mx en lugar de "
        "midominio.mx. ¿Qué pasos debo seguir?",
        "Hola, podemos hacer el cambio hoy mismo. ¿Nos confirmas si quieres conservar el "
        "dominio actual como alias?",
        "pending",
        1,
    ),
    (
        "Factura de renovación duplicada",
        "atencion-a-clientes",
        None,
        "Me llegaron dos cargos por la renovación anual del hosting. Adjunto el estado de cuenta.",
        "Revisamos tu cuenta: el segundo cargo ya fue reembolsado, lo verás en 3 a 5 días hábiles.",
        "resolved",
        2,
    ),
    (
        "Emisión de certificado SSL de paga",
        "operaciones",
        "www.midominio.mx",
        "Compré el certificado SSL OV y no he recibido el correo de validación.",
        "El certificado ya fue emitido e instalado en tu servidor.",
        "closed",
        20,
    ),
    (
        "Registros DNS para Google Workspace",
        "soporte-tecnico",
        "midominio.mx",
        "Necesito agregar los registros MX y TXT de Google Workspace a mi dominio.",
        None,
        "open",
        3,
    ),
]
OTRO_TICKETS = [
    (
        "Transferencia de dominio otraempresa.com",
        "operaciones",
        "otraempresa.com",
        "Quiero transferir mi dominio desde otro registrador. Ya tengo el código EPP.",
        "Recibimos el código; la transferencia tarda hasta 5 días.",
        "pending",
        1,
    ),
    (
        "Upgrade de plan de hosting",
        "atencion-a-clientes",
        None,
        "Quisiera pasar al plan Empresarial este mes.",
        None,
        "open",
        0,
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
        _user("admin@example.com", "Administración", is_staff=True, is_superuser=True)

        cliente = _customer("cliente@example.com", "Carmen Ruiz", "Ruiz Diseño Web")
        otro = _customer("otro@example.com", "Óscar Treviño", "Treviño Consultores")
        for account, rows in (
            (
                cliente.account,
                [
                    ("hosting", "Plan Pyme · midominio.mx", "Pyme"),
                    ("domain", "midominio.mx", ""),
                    ("domain", "midominio.com.mx", ""),
                    ("ssl", "www.midominio.mx", "SSL OV"),
                    ("email", "Correo Negocios · midominio.mx", "10 buzones"),
                ],
            ),
            (
                otro.account,
                [
                    ("hosting", "Plan Empresarial · otraempresa.com", "Empresarial"),
                    ("domain", "otraempresa.com", ""),
                ],
            ),
        ):
            for kind, name, plan in rows:
                Service.objects.get_or_create(
                    account=account, kind=kind, name=name, defaults={"plan": plan}
                )
        for customer, tickets in ((cliente, CLIENTE_TICKETS), (otro, OTRO_TICKETS)):
            for subject, slug, service_name, body, reply, status, days in tickets:
                self._ticket(
                    customer, agent, subject, slug, service_name, body, reply, status, days
                )
        return True

    def _ticket(
        self,
        customer: User,
        agent: User,
        subject: str,
        slug: str,
        service_name: str | None,
        body: str,
        reply: str | None,
        status: str,
        days: int,
    ) -> None:
        department = Department.objects.get(slug=slug)
        service = (
            Service.objects.filter(account=customer.account, name=service_name).first()
            if service_name
            else None
        )
        ticket = services.ticket_open(
            customer=customer, department=department, subject=subject, body=body, service=service
        )
        if reply:
            services.ticket_reply(
                ticket=ticket, author=agent, body=reply, resolve=status == "resolved"
            )
        if status == "closed":
            services.ticket_close(ticket=ticket, actor=customer)
        # Move the whole history back in time, keeping its order.
        shift = timedelta(days=days, hours=2 * days + 1)
        for model in (Message, Event):
            for row in model.objects.filter(ticket=ticket):
                model.objects.filter(pk=row.pk).update(created_at=row.created_at - shift)
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=ticket.created_at - shift,
            updated_at=now() - shift + timedelta(hours=1),
            status_changed_at=now() - shift + timedelta(hours=1),
        )
