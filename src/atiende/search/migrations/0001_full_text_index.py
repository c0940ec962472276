"""The full-text search index: SQLite FTS5 tables, or PostgreSQL tsvector columns with GIN
indexes, kept in step by triggers; existing tickets and messages are indexed.

The index's objects are defined once, in `atiende.search.backends`, and installed
idempotently; a later change to them comes with a new migration that installs them again.
On PostgreSQL this creates the `unaccent` extension: the database's owner may (it is a trusted
extension); otherwise a DBA runs `CREATE EXTENSION unaccent;` in the database first.
"""

from django.db import migrations


def install(apps, schema_editor):
    from atiende.search.backends import backend_for

    backend_for(schema_editor.connection).install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from atiende.search.backends import backend_for

    backend_for(schema_editor.connection).uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0006_ticket_changed_at"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
