"""Domain errors, each mapped once per surface (pages, API, mail)."""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """A rule of the product refused the action; `message` is for the user (translatable)."""

    def __init__(self, message: str | Promise, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The object does not exist *for this user*; never says whether it exists for others."""


class TooLarge(DomainError):
    """A file, or the files together, exceed a limit."""


class StorageUnavailable(DomainError):
    """The file storage (a disk, an S3 server) cannot take or give a file now; nothing was
    changed, and the same action may work in a moment."""


class TransitionNotAllowed(DomainError):
    """The lifecycle table does not allow this action in the ticket's current status."""


class StaleState(DomainError):
    """The object changed since the user looked at it; show him the current state."""


class NewActivity(StaleState):
    """Messages arrived since the user loaded the page; `message_ids` names them."""

    def __init__(self, message: str | Promise, *, message_ids: list[int]) -> None:
        super().__init__(message)
        self.message_ids = message_ids
