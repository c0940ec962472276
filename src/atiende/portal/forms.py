"""The customer portal's forms: they validate what a page sends; the services decide.

Limits the services enforce (subject and message length, attachments, services of the account)
are repeated here only where the form can say it better next to the field; whatever the
services still refuse comes back as a DomainError and is put next to the field it names.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from atiende.accounts.models import Department, Service, User
from atiende.core.errors import DomainError
from atiende.tickets.attachments import attachments_validate
from atiende.tickets.lifecycle import Status
from atiende.tickets.selectors import service_list_for_customer
from atiende.tickets.services import BODY_MAX, SUBJECT_MAX


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files from one <input type=file multiple> (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[bytes]]:
        single_clean = super().clean
        items = data if isinstance(data, list | tuple) else [data]
        return [single_clean(item, initial) for item in items if item]


def domain_error_to_form(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal next to the field it names (or above the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


class _KeyedForm(forms.Form):
    """A form that carries a one-time key so that a resubmission applies nothing twice."""

    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", str(uuid.uuid4()))

    def clean_submission_key(self) -> uuid.UUID | None:
        # A missing or mangled key is no reason to refuse what the user wrote; such a form is
        # simply not protected against a second submission.
        try:
            return uuid.UUID(self.cleaned_data.get("submission_key") or "")
        except ValueError:
            return None

    def _check_files(self, department: Department | None) -> None:
        """Refuse bad files now, with the other errors, rather than after they are fixed."""
        files = self.cleaned_data.get("attachments") or []
        if department is None or not files:
            return
        try:
            attachments_validate(files, department=department)
        except DomainError as error:
            domain_error_to_form(self, error)

    @property
    def files_lost(self) -> bool:
        """Files were sent with a form that comes back with errors: they must be re-attached."""
        return self.is_bound and bool(self.errors) and bool(self.files.getlist("attachments"))


class TicketOpenForm(_KeyedForm):
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        to_field_name="slug",
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the department that handles your matter."),
            "invalid_choice": _(
                "This department does not take tickets now; choose one from the list."
            ),
        },
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=SUBJECT_MAX,
        help_text=_("A short description of the question or the problem."),
        error_messages={"required": _("Write a subject: a short description of the matter.")},
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.none(),
        required=False,
        empty_label=pgettext_lazy("no service", "None"),
        help_text=_("The service your question or problem is about, if any."),
        error_messages={"invalid_choice": _("Choose one of your active services, or none.")},
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("All the details: what you did, what you expected, what happened instead."),
        error_messages={"required": _("Write a message.")},
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Screenshots or files with the steps to reproduce the problem, if needed."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department_field = self.fields["department"]
        service_field = self.fields["service"]
        assert isinstance(department_field, forms.ModelChoiceField)
        assert isinstance(service_field, forms.ModelChoiceField)
        department_field.queryset = Department.objects.filter(is_active=True).order_by(
            "position", "name"
        )
        service_field.queryset = service_list_for_customer(user=user, active_only=True)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        self._check_files(self.cleaned_data.get("department"))
        return cleaned


class TicketReplyForm(_KeyedForm):
    body = forms.CharField(
        label=_("Message"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Write a message.")},
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args: Any, department: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.department = department

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        self._check_files(self.department)
        return cleaned


class TicketStatusForm(forms.Form):
    """Close or reopen: carries the status the page showed, so a stale page applies nothing."""

    expected_status = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Words or ticket ID"),
        max_length=200,
        required=False,
        help_text=_("A ticket ID, or words from the subject or the messages."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
