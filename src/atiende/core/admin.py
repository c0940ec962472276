"""An admin whose change page has one POST-only button (send again, rotate the secret)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import URLPattern, path, reverse

_M = TypeVar("_M", bound=Model)


class ObjectButtonAdmin(admin.ModelAdmin[_M]):
    """`button` names the action: its URL `<id>/<button_path>/` (named
    `<app>_<model>_<button>`), its permission `has_<button>_permission(request)`, and the
    change page's context `can_<button>` / `<button>_url`. `button_act(request, obj)` does the
    work and says how it went (message_user); the answer is the change page again."""

    button = ""
    button_path = ""

    def button_act(self, request: HttpRequest, obj: _M) -> None:
        raise NotImplementedError

    def _button_allowed(self, request: HttpRequest) -> bool:
        return bool(getattr(self, f"has_{self.button}_permission")(request))

    def get_urls(self) -> list[URLPattern]:
        button = path(
            f"<path:object_id>/{self.button_path}/",
            self.admin_site.admin_view(self.button_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_{self.button}",
        )
        # Before the defaults: their "<path:object_id>/" would catch the address first.
        return [button, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {
            **(extra_context or {}),
            f"can_{self.button}": self._button_allowed(request),
            f"{self.button}_url": self.admin_url(self.button, object_id),
        }
        return super().change_view(request, object_id, form_url, context)

    def button_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self._button_allowed(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        self.button_act(request, obj)
        return HttpResponseRedirect(self.admin_url("change", quote(obj.pk)))

    def admin_url(self, view: str, object_id: str) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{view}",
            args=[object_id],
            current_app=self.admin_site.name,
        )
