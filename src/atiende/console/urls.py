"""The agent console under /consola/. Queue pages live in views_queue, the ticket page and
its actions in views_ticket, the quarantine of received mail in views_mail, the staff's API
tokens in views_tokens."""

from __future__ import annotations

from atiende.console import views_mail, views_queue, views_ticket, views_tokens

app_name = "console"
urlpatterns = [
    *views_queue.urlpatterns,
    *views_ticket.urlpatterns,
    *views_mail.urlpatterns,
    *views_tokens.urlpatterns,
]
