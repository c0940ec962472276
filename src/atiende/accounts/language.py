"""The interface language of a logged-in user: his saved choice, not his browser's.

The choice travels in the session (set at login and whenever he changes it), so that
`UserLanguageMiddleware` can apply it before LocaleMiddleware without loading the user.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from atiende.accounts.models import User

LANGUAGE_SESSION_KEY = "atiende_language"


def language_remember(request: HttpRequest, language: str) -> None:
    """Keep `language` for the rest of this user's session."""
    request.session[LANGUAGE_SESSION_KEY] = language


def language_cookie_set(response: HttpResponseBase, language: str) -> None:
    """The same cookie Django's set_language view sets, so the choice survives logout."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def remember_language_on_login(
    sender: Any, request: HttpRequest | None, user: User, **kwargs: Any
) -> None:
    """`user_logged_in` receiver: every way of logging in (portal, admin, links) applies it."""
    if request is not None and hasattr(request, "session") and user.language:
        language_remember(request, user.language)
