"""Helpers for the ticket domain's tests (the cast and fixtures live in tests/conftest.py)."""
