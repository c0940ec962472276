"""The customer portal's ticket pages (Spanish paths: the product speaks Spanish first)."""

from __future__ import annotations

from django.urls import URLPattern, path

from atiende.portal import views

app_name = "portal"
urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("soporte/abrir/", views.ticket_new, name="ticket_new"),
    path("soporte/abierto/<str:reference>/", views.ticket_opened, name="ticket_opened"),
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/<str:reference>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<str:reference>/responder/", views.ticket_reply, name="ticket_reply"),
    path("tickets/<str:reference>/cerrar/", views.ticket_close, name="ticket_close"),
    path("tickets/<str:reference>/reabrir/", views.ticket_reopen, name="ticket_reopen"),
    path(
        "tickets/<str:reference>/adjuntos/<uuid:public_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path("buscar/", views.search, name="search"),
]
