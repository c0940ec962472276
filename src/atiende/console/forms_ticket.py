"""The forms of the console's ticket page: they validate what the page sends; the services decide.

Each action form carries what the page showed (the status, the assignee, the newest message),
so that a change someone else made meanwhile is refused by the service instead of overwritten.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from atiende.accounts.models import Department, User
from atiende.core.errors import DomainError
from atiende.portal.forms import MultipleFileField, domain_error_to_form
from atiende.tickets.attachments import attachments_validate
from atiende.tickets.lifecycle import Status
from atiende.tickets.services import BODY_MAX

__all__ = [
    "AssignForm",
    "CannedPickForm",
    "MoveForm",
    "NoteForm",
    "PresenceForm",
    "PresenceLeaveForm",
    "ReplyForm",
    "StatusForm",
    "domain_error_to_form",
]


class _MessageForm(forms.Form):
    """A text with attachments and a one-time key, so that a resubmission stores nothing twice."""

    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args: Any, department: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.department = department
        if not self.is_bound:
            self.initial.setdefault("submission_key", str(uuid.uuid4()))

    def clean_submission_key(self) -> uuid.UUID | None:
        # A missing or mangled key is no reason to refuse what the agent wrote.
        try:
            return uuid.UUID(self.cleaned_data.get("submission_key") or "")
        except ValueError:
            return None

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        files = self.cleaned_data.get("attachments") or []
        if files:
            try:
                attachments_validate(files, department=self.department)
            except DomainError as error:
                domain_error_to_form(self, error)
        return cleaned

    @property
    def files_lost(self) -> bool:
        """Files came with a form that goes back with errors: they must be attached again."""
        return (
            self.is_bound
            and bool(self.errors)
            and bool(self.files.getlist(self["attachments"].html_name))
        )


class ReplyForm(_MessageForm):
    """A public reply: mailed to the customer."""

    body = forms.CharField(
        label=_("Reply to the customer"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8, "data-draft": "1"}),
        help_text=_("The customer receives this reply by e-mail and sees it on his ticket page."),
        error_messages={"required": _("Write the reply before sending it.")},
    )
    # The newest message the page showed: one that arrived after it stops a blind reply.
    seen_message_id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    resolve = forms.BooleanField(required=False)
    confirm_reopen = forms.BooleanField(required=False)


class NoteForm(_MessageForm):
    """An internal note: staff only, no status change, no mail to the customer."""

    prefix = "note"

    body = forms.CharField(
        label=_("Internal note"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "data-draft": "1"}),
        help_text=_("Only staff see internal notes. The customer never sees them."),
        error_messages={"required": _("Write the note before adding it.")},
    )


class StatusForm(forms.Form):
    """Resolve, close or reopen: carries the status the page showed."""

    expected_status = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)


class AssignForm(forms.Form):
    """Give the ticket to someone (empty: to nobody), carrying the assignee the page showed."""

    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.filter(is_staff=True, is_active=True),
        required=False,
        error_messages={"invalid_choice": _("Choose an active agent of the department.")},
    )
    # 0 stands for "nobody": the page always says whom it showed.
    expected_assignee = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    @property
    def expected_assignee_id(self) -> int | None:
        value: int = self.cleaned_data["expected_assignee"]
        return value or None


class MoveForm(forms.Form):
    prefix = "move"

    department = forms.ModelChoiceField(
        label=_("Move to department"),
        queryset=Department.objects.none(),
        empty_label=_("Choose a department"),
        error_messages={
            "required": _("Choose the department the ticket moves to."),
            "invalid_choice": _("Choose one of the active departments."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Why it moves: the other department reads this first."),
        error_messages={"required": _("Say why the ticket moves to another department.")},
    )

    def __init__(self, *args: Any, current: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Department.objects.filter(is_active=True)
            .exclude(pk=current.pk)
            .order_by("position", "name")
        )


class CannedPickForm(forms.Form):
    """The page's GET form that fills the reply box with a canned reply (works without JS)."""

    respuesta = forms.IntegerField(label=_("Canned reply"), min_value=1)


class PresenceForm(forms.Form):
    """The heartbeat: the newest message the page shows, to tell whether others arrived."""

    seen = forms.IntegerField(required=False, min_value=0)


class PresenceLeaveForm(forms.Form):
    """The page is left: the moment of its last touch (a later one is another page's)."""

    touched = forms.DateTimeField(required=False)
