"""The form of the console's "New token": a name, a scope, and a one-time submission key.

The scopes offered are the ones the user may hold (admin only for administrators); a forged
POST with another scope is refused here, and `token_create` would refuse it anyway.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from atiende.api.models import SCOPE_ORDER, Scope
from atiende.api.tokens import NAME_MAX

SCOPE_LABELS = {
    Scope.READ: _("Read: looks, changes nothing"),
    Scope.WRITE: _("Write: reads and changes"),
    Scope.ADMIN: _("Admin: writes, and may do what only administrators do"),
}


class TokenCreateForm(forms.Form):
    # The key is what tells a resubmitted form (a double click, a reload of the answer) from
    # a new one: the token it created is not created again, and its secret not shown again.
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX,
        help_text=_(
            "What will use the token, such as “Billing system”. It names the token in lists."
        ),
        error_messages={
            "required": _("Give the token a name, such as the system that will use it."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        widget=forms.RadioSelect,
        initial=Scope.READ.value,
        error_messages={
            "required": _("Choose a scope for the token."),
            "invalid_choice": _("Choose one of the scopes offered."),
        },
    )

    def __init__(self, *args: Any, superuser: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["scope"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (scope.value, SCOPE_LABELS[scope])
            for scope in SCOPE_ORDER
            if scope != Scope.ADMIN or superuser
        ]
        if not self.is_bound:
            self.initial.setdefault("submission_key", str(uuid.uuid4()))

    def clean_submission_key(self) -> uuid.UUID | None:
        # A missing or mangled key is no reason to refuse the form; such a form is simply not
        # protected against a second submission.
        try:
            return uuid.UUID(self.cleaned_data.get("submission_key") or "")
        except ValueError:
            return None
