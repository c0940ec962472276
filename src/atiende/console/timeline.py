"""The ticket's history as the console shows it: messages and events in one time line.

Both lists are read once (two queries whatever their length) and merged here, in Python. The
descriptions are plain text; the template escapes them like any other text.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from atiende.tickets.lifecycle import Status
from atiende.tickets.models import ActorKind, Channel, Event, Message

# At one same moment the ticket is opened before its first message is shown, and a message
# comes before the status change it caused.
_RANK_CREATED = 0
_RANK_MESSAGE = 1
_RANK_EVENT = 2


@dataclass(frozen=True)
class Entry:
    """One line of the history: a message (public or internal) or an event."""

    at: datetime
    message: Message | None = None
    event: Event | None = None
    description: str = ""
    old_status: str = ""
    new_status: str = ""
    is_new: bool = False

    @property
    def old_status_label(self) -> str:
        return str(Status(self.old_status).label) if self.old_status else ""

    @property
    def new_status_label(self) -> str:
        return str(Status(self.new_status).label) if self.new_status else ""


def actor_name(event: Event) -> str:
    if event.actor is not None:
        return event.actor.display_name
    if event.actor_kind == ActorKind.SYSTEM:
        return pgettext("who did it", "The system")
    if event.actor_kind == ActorKind.AGENT:
        return pgettext("who did it", "Staff")
    return pgettext("who did it", "The customer")


def _channel_label(value: object) -> str:
    if isinstance(value, str) and value in Channel.values:
        return str(Channel(value).label)
    return str(Channel.WEB.label)


def event_describe(event: Event) -> str:
    """One sentence saying what happened, who did it and, for a move, from where to where."""
    actor = actor_name(event)
    data = event.data if isinstance(event.data, dict) else {}
    if event.kind == Event.Kind.CREATED:
        return _("%(actor)s opened the ticket (%(channel)s).") % {
            "actor": actor,
            "channel": _channel_label(data.get("channel")),
        }
    if event.kind == Event.Kind.STATUS:
        return _("%(actor)s changed the status.") % {"actor": actor}
    if event.kind == Event.Kind.ASSIGNED:
        target = data.get("to")
        if target is None:
            return _("%(actor)s unassigned the ticket.") % {"actor": actor}
        if target == event.actor_id:
            return _("%(actor)s took the ticket.") % {"actor": actor}
        return _("%(actor)s assigned the ticket to %(name)s.") % {
            "actor": actor,
            "name": data.get("to_name") or _("another agent"),
        }
    if event.kind == Event.Kind.COLLABORATOR:
        name = str(data.get("name") or _("an agent"))
        if "removed" in data:
            if data["removed"] == event.actor_id:
                return _("%(name)s left the ticket.") % {"name": name}
            return _("%(actor)s took %(name)s off the ticket.") % {"actor": actor, "name": name}
        if data.get("added") == event.actor_id:
            return _("%(name)s joined as a collaborator.") % {"name": name}
        return _("%(actor)s added %(name)s as a collaborator.") % {"actor": actor, "name": name}
    if event.kind == Event.Kind.MOVED:
        text = _("%(actor)s moved the ticket from %(source)s to %(target)s.") % {
            "actor": actor,
            "source": data.get("from_name") or "?",
            "target": data.get("to_name") or "?",
        }
        released = [data["unassigned"]] if data.get("unassigned") else []
        released += list(data.get("collaborators_released") or [])
        if released:
            text += " " + _("No longer on it (they do not work there): %(names)s.") % {
                "names": ", ".join(str(name) for name in released)
            }
        return text
    return str(event.get_kind_display())


def timeline_build(
    *,
    messages: Iterable[Message],
    events: Iterable[Event],
    new_message_ids: Collection[int] = (),
) -> list[Entry]:
    """Messages and events in the order they happened (no query of its own)."""
    ranked: list[tuple[datetime, int, int, Entry]] = []
    for message in messages:
        entry = Entry(at=message.created_at, message=message, is_new=message.pk in new_message_ids)
        ranked.append((message.created_at, _RANK_MESSAGE, message.pk, entry))
    for event in events:
        entry = Entry(
            at=event.created_at,
            event=event,
            description=event_describe(event),
            old_status=event.old_status if event.kind == Event.Kind.STATUS else "",
            new_status=event.new_status if event.kind == Event.Kind.STATUS else "",
        )
        rank = _RANK_CREATED if event.kind == Event.Kind.CREATED else _RANK_EVENT
        ranked.append((event.created_at, rank, event.pk, entry))
    ranked.sort(key=lambda row: row[:3])
    return [row[3] for row in ranked]
