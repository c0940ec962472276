"""Webhooks: administrators register URLs that are told of ticket events.

Deliveries are rows of the mail outbox (`kind="webhook"`): written in the transaction of the
change that causes them, delivered, retried and shown by the same machinery as mail.
"""
