"""Tickets learn when anything last changed (`changed_at`, moved by every event), for the
API's `updated_since` and its list order; existing tickets start from their last event."""

import atiende.core.clock
from django.conf import settings
from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce


def changed_at_from_events(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Event = apps.get_model("tickets", "Event")
    last_event = (
        Event.objects.filter(ticket=OuterRef("pk"))
        .values("ticket")
        .annotate(last=Max("created_at"))
        .values("last")
    )
    Ticket.objects.update(changed_at=Coalesce(Subquery(last_event), "updated_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_account_public_and_external_ids'),
        ('tickets', '0005_event_feed_order_and_recent_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_recent',
        ),
        migrations.AddField(
            model_name='ticket',
            name='changed_at',
            field=models.DateTimeField(default=atiende.core.clock.now, verbose_name='last change'),
        ),
        migrations.RunPython(changed_at_from_events, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['-changed_at', '-id'], name='ticket_changed'),
        ),
    ]
