"""Who may use the console: active staff. Everybody else gets the console's login page.

A customer's session on a console URL gets that login page too: never data, never a hint of
what the URL would show.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Concatenate, ParamSpec, cast

from django.contrib.auth.views import redirect_to_login
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponseBase

from atiende.accounts.models import User
from atiende.core.errors import NotFound

P = ParamSpec("P")


class AgentRequest(HttpRequest):
    """A request from a logged-in, active staff member."""

    user: User


AgentView = Callable[Concatenate[AgentRequest, P], HttpResponseBase]
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]

CONSOLE_LOGIN_URL = "console:login"


def staff_page(view: AgentView[P]) -> View[P]:
    """Only active staff; the domain's NotFound becomes the 404 page here, once."""

    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        user = request.user
        if not (
            user.is_authenticated and isinstance(user, User) and user.is_staff and user.is_active
        ):
            return redirect_to_login(request.get_full_path(), CONSOLE_LOGIN_URL)
        # Which departments he works is asked by every selector of the page: one query.
        prefetch_related_objects([user], "memberships")
        try:
            return view(cast(AgentRequest, request), *args, **kwargs)
        except NotFound as error:
            raise Http404(str(error.message)) from error

    update_wrapper(wrapper, view)
    return wrapper
