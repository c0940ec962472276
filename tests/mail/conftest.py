"""Fixtures of the mail tests: the real servers of tests/services (fixtures only)."""

from __future__ import annotations

from tests.services.fixtures import redis_server, site, site_databases, smtp_mail, smtp_server

__all__ = ["redis_server", "site", "site_databases", "smtp_mail", "smtp_server"]
