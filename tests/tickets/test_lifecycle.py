"""The lifecycle table: which action moves a ticket from which status to which."""

from __future__ import annotations

import pytest

from atiende.core.errors import TransitionNotAllowed
from atiende.tickets.lifecycle import (
    CUSTOMER_ACTIONS,
    CUSTOMER_EXPLANATIONS,
    TRANSITIONS,
    Action,
    Status,
    allowed_actions,
    is_allowed,
    next_status,
)


@pytest.mark.parametrize("status", [Status.OPEN, Status.PENDING, Status.RESOLVED])
def test_a_customer_may_reply_or_close_an_active_ticket_but_not_reopen_it(status: Status) -> None:
    assert allowed_actions(status, CUSTOMER_ACTIONS) == [
        Action.CUSTOMER_REPLY,
        Action.CUSTOMER_CLOSE,
    ]


def test_a_customer_may_reopen_a_closed_ticket_and_not_close_it_again() -> None:
    actions = allowed_actions(Status.CLOSED, CUSTOMER_ACTIONS)
    assert Action.CUSTOMER_REOPEN in actions
    assert Action.CUSTOMER_CLOSE not in actions


@pytest.mark.parametrize("status", list(Status))
def test_a_customer_reply_brings_the_ticket_back_to_staff_from_any_status(status: Status) -> None:
    assert next_status(Action.CUSTOMER_REPLY, status) == Status.OPEN


def test_a_public_staff_reply_waits_on_the_customer() -> None:
    assert next_status(Action.AGENT_REPLY, Status.OPEN) == Status.PENDING
    assert next_status(Action.AGENT_REPLY_RESOLVE, Status.OPEN) == Status.RESOLVED


def test_an_internal_note_changes_no_status() -> None:
    for status in Status:
        assert next_status(Action.AGENT_NOTE, status) == status


def test_the_system_closes_only_tickets_that_wait_on_the_customer_or_are_resolved() -> None:
    assert is_allowed(Action.SYSTEM_AUTO_CLOSE, Status.PENDING)
    assert is_allowed(Action.SYSTEM_AUTO_CLOSE, Status.RESOLVED)
    assert not is_allowed(Action.SYSTEM_AUTO_CLOSE, Status.OPEN)
    assert not is_allowed(Action.SYSTEM_AUTO_CLOSE, Status.CLOSED)


def test_a_refused_action_names_the_current_status() -> None:
    with pytest.raises(TransitionNotAllowed) as refused:
        next_status(Action.CUSTOMER_CLOSE, Status.CLOSED)
    assert str(Status.CLOSED.label) in str(refused.value.message)


def test_every_action_has_a_transition_and_every_status_an_explanation() -> None:
    assert set(TRANSITIONS) == set(Action)
    assert set(CUSTOMER_EXPLANATIONS) == set(Status)


def test_statuses_accept_their_stable_string_values() -> None:
    assert next_status(Action.CUSTOMER_CLOSE, "pending") == Status.CLOSED
