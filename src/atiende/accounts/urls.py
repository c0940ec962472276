"""The customer's account pages, under /cuenta/."""

from __future__ import annotations

from django.urls import URLPattern, path

from atiende.accounts import views

app_name = "accounts"
urlpatterns: list[URLPattern] = [
    path("entrar/", views.LoginView.as_view(), name="login"),
    path("salir/", views.LogoutView.as_view(), name="logout"),
    path("registro/", views.register, name="register"),
    path("registro/enviado/", views.register_sent, name="register_sent"),
    path("registro/confirmar/<str:token>/", views.register_confirm, name="register_confirm"),
    path("clave/recuperar/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "clave/recuperar/enviado/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "clave/recuperar/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "clave/recuperada/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("clave/cambiar/", views.PasswordChangeView.as_view(), name="password_change"),
    path("perfil/", views.profile, name="profile"),
    path("idioma/", views.language_set, name="set_language"),
    path("correos/", views.addresses, name="addresses"),
    path("correos/<int:address_id>/reenviar/", views.address_resend, name="address_resend"),
    path("correos/<int:address_id>/quitar/", views.address_remove, name="address_remove"),
    path("correos/confirmar/<uuid:token>/", views.address_confirm, name="address_confirm"),
    path("servicios/", views.services_list, name="services"),
]
