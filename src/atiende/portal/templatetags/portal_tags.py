"""Who wrote what, in the customer's words: "You", a colleague's name, or "Support"."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from atiende.accounts.models import User
from atiende.tickets.models import ActorKind, Message, Ticket

register = template.Library()

_CUSTOMER_SIDE = frozenset({ActorKind.CUSTOMER, ActorKind.EMAIL})


def _staff_label(name: str) -> str:
    if not name:
        return pgettext("who wrote", "Support")
    return _("%(name)s (Support)") % {"name": name}


@register.simple_tag
def last_author(ticket: Ticket, user: User) -> str:
    """Who wrote the ticket's last public message, as the history page shows it."""
    if ticket.last_author_kind in _CUSTOMER_SIDE:
        if ticket.last_author_name == user.display_name:
            return pgettext("who wrote", "You")
        return ticket.last_author_name
    if ticket.last_author_kind == ActorKind.AGENT:
        return _staff_label(ticket.last_author_name)
    return pgettext("who wrote", "System")


@register.simple_tag
def message_author(message: Message, user: User) -> str:
    """The author of a message of the thread (its author is loaded with the thread)."""
    author = message.author
    if message.author_kind == ActorKind.AGENT:
        return _staff_label(author.display_name if author is not None else "")
    if message.author_kind in _CUSTOMER_SIDE:
        if author is not None and author.pk == user.pk:
            return pgettext("who wrote", "You")
        return author.display_name if author is not None else _("Customer")
    return pgettext("who wrote", "System")
