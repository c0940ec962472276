"""Pagination whose cost does not grow with the rows kept."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class CappedPaginator(Paginator):  # type: ignore[type-arg]
    """A Paginator that counts at most `cap` rows.

    Django's Paginator counts the whole list for "N tickets" and "page 1 of M": at a million
    closed tickets that COUNT reads a million index entries on every page view. This one
    counts a LIMITed subquery instead (`SELECT COUNT(*) FROM (... LIMIT cap + 1)`), so a page
    costs the same however many rows lie beyond: `count` stops at `cap`, `capped` says there
    are more, and the pages reach as far as the cap (filters and search narrow the rest).
    """

    def __init__(
        self, object_list: QuerySet[Any], per_page: int, *, cap: int, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.queryset = object_list
        self.cap = cap

    @cached_property
    def _counted(self) -> int:
        return self.queryset[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap
