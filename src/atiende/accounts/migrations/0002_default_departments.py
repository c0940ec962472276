"""The three departments of the source documents exist out of the box.

Names and descriptions are stored in Spanish, the product's default language; administrators
edit them (and add English wording in the description if they serve both) in the admin.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

DEPARTMENTS = [
    (
        "atencion-a-clientes",
        "Atención a clientes",
        "Dudas sobre pagos o servicios, facturación, activación de un nuevo servicio, "
        "promociones, upgrades o downgrades de hosting, renovación de servicios.",
    ),
    (
        "operaciones",
        "Operaciones",
        "Emisión de certificados SSL de paga; dominios: registro, renovaciones, transferencias.",
    ),
    (
        "soporte-tecnico",
        "Soporte técnico",
        "Problemas técnicos en los servicios de hosting: correos electrónicos, registros DNS, "
        "cambio de dominio principal.",
    ),
]


def create_departments(apps: Any, schema_editor: Any) -> None:
    Department = apps.get_model("accounts", "Department")
    for position, (slug, name, description) in enumerate(DEPARTMENTS):
        Department.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position}
        )


def remove_departments(apps: Any, schema_editor: Any) -> None:
    Department = apps.get_model("accounts", "Department")
    Department.objects.filter(
        slug__in=[slug for slug, _name, _description in DEPARTMENTS], tickets__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_departments, remove_departments)]
