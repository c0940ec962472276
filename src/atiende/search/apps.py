from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate

logger = logging.getLogger(__name__)


# Names of the triggers `triggers_set_aside` dropped in this process, per database alias.
_SET_ASIDE: dict[str, list[str]] = {}


def triggers_set_aside(*, using: str = "default", **kwargs: Any) -> None:
    """SQLite: drop the index's triggers before `migrate`, for `triggers_restore` to put back.

    When Django remakes a table on SQLite (a new table, the rows copied, the old one dropped,
    the new one renamed), a trigger on ANOTHER table whose body names the remade one makes the
    rename fail ("error in trigger ...: no such table"). Without the triggers, a migration may
    remake any table; rows it writes meanwhile are indexed by `atiende search rebuild`.
    """
    from atiende.search.backends.sqlite import TRIGGERS

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = [name for (name,) in cursor.fetchall() if name in TRIGGERS]
        for name in present:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    _SET_ASIDE[using] = present


def triggers_restore(*, using: str = "default", **kwargs: Any) -> None:
    """SQLite: put back the index's triggers that a migration dropped.

    Django remakes a table on SQLite for many schema changes (a new table, the rows copied,
    the old one dropped), and its triggers go with the old table. The copy keeps every id, so
    the index stays right; only the triggers are missing, and they are created again here,
    after every `migrate`. Nothing is done before the search app's migration ran (or after it
    was reversed), nor on PostgreSQL, whose ALTER TABLE keeps triggers.
    """
    from atiende.search.backends.sqlite import TABLES, TRIGGERS, triggers_create

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        existing = {name for (name,) in cursor.fetchall()}
        missing = [name for name in TRIGGERS if name not in existing]
        if not missing or any(table not in existing for table in TABLES):
            return
        triggers_create(cursor)
        set_aside = set(_SET_ASIDE.pop(using, []))
        if set(missing) <= set_aside:
            return  # only those set aside for this migrate: nothing was lost
        logger.warning(
            "Search index triggers were missing and have been recreated (%s); rows written "
            "meanwhile by migrations are indexed by `atiende search rebuild`.",
            ", ".join(missing),
        )


class SearchConfig(AppConfig):
    name = "atiende.search"
    label = "search"

    def ready(self) -> None:
        pre_migrate.connect(
            triggers_set_aside, sender=self, dispatch_uid="atiende.search.triggers_set_aside"
        )
        post_migrate.connect(
            triggers_restore, sender=self, dispatch_uid="atiende.search.triggers_restore"
        )
