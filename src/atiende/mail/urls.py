from __future__ import annotations

from django.urls import path

from atiende.mail import views

app_name = "mail"
urlpatterns = [
    path("correo/", views.demo_outbox, name="demo_outbox"),
    path("correo/<int:pk>/", views.demo_outbox_message, name="demo_outbox_message"),
]
