from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from atiende.api.errors import api_not_found
from atiende.api.main import api
from atiende.core.views import health

urlpatterns = [
    path("healthz/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<path>.*)$", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("cuenta/", include("atiende.accounts.urls")),
    path("consola/", include("atiende.console.urls")),
    path("demo/", include("atiende.mail.urls")),
    path("", include("atiende.portal.urls")),
]
