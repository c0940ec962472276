"""Atiende: support tickets for companies that sell services."""
