from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "atiende.accounts"
    label = "accounts"
    verbose_name = _("Accounts and staff")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from atiende.accounts.language import remember_language_on_login

        user_logged_in.connect(
            remember_language_on_login, dispatch_uid="atiende.accounts.remember_language"
        )
