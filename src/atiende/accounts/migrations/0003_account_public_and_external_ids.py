"""Accounts get a public UUID (what the API and webhooks call them) and an external ID.

A unique UUID column cannot be added with a default in one step (every existing row would get
the same value): add it nullable, give each row its own, then make it unique and required.
"""

import uuid

from django.db import migrations, models


def give_each_account_its_id(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    for pk in Account.objects.filter(public_id__isnull=True).values_list("pk", flat=True):
        Account.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_default_departments"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(give_each_account_its_id, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="account",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
        migrations.AddField(
            model_name="account",
            name="external_id",
            field=models.CharField(blank=True, max_length=100, verbose_name="external ID"),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_id", ""), _negated=True),
                fields=("external_id",),
                name="account_external_id_unique",
            ),
        ),
    ]
