"""The ticket lifecycle as data: which action moves a ticket from which status to which.

Services enforce this table, templates draw their buttons from it, and every change it allows
is recorded as an Event. Nothing else in the code decides a status.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from atiende.core.errors import TransitionNotAllowed


class Status(models.TextChoices):
    OPEN = "open", pgettext_lazy("ticket status", "Open")
    PENDING = "pending", pgettext_lazy("ticket status", "Pending")
    RESOLVED = "resolved", pgettext_lazy("ticket status", "Resolved")
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")


class Action(models.TextChoices):
    CUSTOMER_REPLY = "customer_reply", _("customer replied")
    CUSTOMER_CLOSE = "customer_close", _("customer closed")
    CUSTOMER_REOPEN = "customer_reopen", _("customer reopened")
    AGENT_REPLY = "agent_reply", _("staff replied")
    AGENT_REPLY_RESOLVE = "agent_reply_resolve", _("staff replied and resolved")
    AGENT_NOTE = "agent_note", _("internal note")
    AGENT_RESOLVE = "agent_resolve", _("staff resolved")
    AGENT_CLOSE = "agent_close", _("staff closed")
    AGENT_REOPEN = "agent_reopen", _("staff reopened")
    SYSTEM_AUTO_RESOLVE = "system_auto_resolve", _("resolved by the system")
    SYSTEM_AUTO_CLOSE = "system_auto_close", _("closed by the system")


ALL = frozenset(Status)
ACTIVE = frozenset({Status.OPEN, Status.PENDING, Status.RESOLVED})


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[Status]
    # None: the action leaves the status as it is (an internal note).
    to: Status | None


TRANSITIONS: dict[Action, Transition] = {
    # A customer reply always brings the ticket back to staff, even from Cerrado.
    Action.CUSTOMER_REPLY: Transition(ALL, Status.OPEN),
    Action.CUSTOMER_CLOSE: Transition(ACTIVE, Status.CLOSED),
    Action.CUSTOMER_REOPEN: Transition(frozenset({Status.CLOSED}), Status.OPEN),
    # A public staff reply waits on the customer ("En espera"); on a closed ticket the
    # service asks the agent to confirm before it reopens it that way.
    Action.AGENT_REPLY: Transition(ALL, Status.PENDING),
    Action.AGENT_REPLY_RESOLVE: Transition(ALL, Status.RESOLVED),
    Action.AGENT_NOTE: Transition(ALL, None),
    Action.AGENT_RESOLVE: Transition(frozenset({Status.OPEN, Status.PENDING}), Status.RESOLVED),
    Action.AGENT_CLOSE: Transition(ACTIVE, Status.CLOSED),
    Action.AGENT_REOPEN: Transition(frozenset({Status.RESOLVED, Status.CLOSED}), Status.OPEN),
    # No customer answer before the deadline: a Pendiente ticket is first marked resolved...
    Action.SYSTEM_AUTO_RESOLVE: Transition(frozenset({Status.PENDING}), Status.RESOLVED),
    # ...and a Resuelto one is closed.
    Action.SYSTEM_AUTO_CLOSE: Transition(
        frozenset({Status.PENDING, Status.RESOLVED}), Status.CLOSED
    ),
}

# Staff actions after which the ticket waits on the customer: they (re)start the auto-close
# deadline. Any other change that leaves Pendiente/Resuelto clears it.
WAITING_ON_CUSTOMER = frozenset(
    {Action.AGENT_REPLY, Action.AGENT_REPLY_RESOLVE, Action.AGENT_RESOLVE}
)
AUTO_CLOSING = frozenset({Status.PENDING, Status.RESOLVED})

CUSTOMER_ACTIONS = (Action.CUSTOMER_REPLY, Action.CUSTOMER_CLOSE, Action.CUSTOMER_REOPEN)


def is_allowed(action: Action, current: Status | str) -> bool:
    return Status(current) in TRANSITIONS[action].allowed_from


def next_status(action: Action, current: Status | str) -> Status:
    """The status after `action`, or TransitionNotAllowed naming the current status."""
    status = Status(current)
    transition = TRANSITIONS[action]
    if status not in transition.allowed_from:
        raise TransitionNotAllowed(
            _("This action is not possible while the ticket is %(status)s.")
            % {"status": status.label}
        )
    return transition.to if transition.to is not None else status


def allowed_actions(current: Status | str, among: tuple[Action, ...]) -> list[Action]:
    """The actions of `among` allowed now, in the order given: the buttons a page shows."""
    return [action for action in among if is_allowed(action, current)]


# What each status means, in the customer's words (shown on the ticket page).
CUSTOMER_EXPLANATIONS: dict[Status, Promise] = {
    Status.OPEN: _("Open: our team is reviewing your ticket and will answer as soon as possible."),
    Status.PENDING: _("Pending: we are waiting for your reply."),
    Status.RESOLVED: _(
        "Resolved: our team marked this ticket as solved. Reply if you still need help."
    ),
    Status.CLOSED: _("Closed: this ticket is archived. You can reopen it at any time."),
}
