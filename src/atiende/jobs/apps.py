from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "atiende.jobs"
    label = "jobs"

    def ready(self) -> None:
        from atiende.jobs import schedule, tasks  # noqa: F401  (registers every task with huey)
        from atiende.mail.outbound.outbox import outbox_enqueued

        outbox_enqueued.connect(tasks.outbox_kick, dispatch_uid="atiende.jobs.outbox_kick")
