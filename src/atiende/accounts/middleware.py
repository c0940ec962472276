"""Each user sees the interface in his language and dates in his time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from atiende.accounts.language import LANGUAGE_SESSION_KEY, language_cookie_set

_LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)


class UserLanguageMiddleware:
    """Before LocaleMiddleware: a logged-in user's saved language wins over the browser's.

    Reads the language kept in the session at login (see `atiende.accounts.language`) without
    loading the user; a visitor without a session costs nothing. When it differs from the
    language cookie, LocaleMiddleware is shown the saved one and the cookie is corrected, so
    the choice also outlives the session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        saved = session.get(LANGUAGE_SESSION_KEY) if session is not None else None
        cookie_name = settings.LANGUAGE_COOKIE_NAME
        if saved not in _LANGUAGES or request.COOKIES.get(cookie_name) == saved:
            return self.get_response(request)
        assert isinstance(saved, str)
        request.COOKIES[cookie_name] = saved
        response = self.get_response(request)
        # A view that changed the language (logout, the language selector) has the last word.
        if cookie_name not in response.cookies:
            language_cookie_set(response, saved)
        return response


class UserTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone_name = getattr(user, "timezone", "") if user is not None else ""
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone_name or settings.TIME_ZONE))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
