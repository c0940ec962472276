"""The console's forms for logging in and for the queues. They validate what a page sends;
selectors and services decide. (The ticket page's forms are in `forms_ticket.py`.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from atiende.accounts.forms import EmailLoginForm
from atiende.accounts.models import Department, User
from atiende.tickets.lifecycle import Status
from atiende.tickets.selectors import ASSIGNED_TO_NOBODY, QueueOrder, QueueView

# The queues' GET parameters are Spanish, like every URL of the product; these tables map them
# to the selectors' words.
VIEW_PARAMS: dict[str, QueueView] = {
    "sin-asignar": QueueView.UNASSIGNED,
    "mios": QueueView.MINE,
    "todos": QueueView.ALL,
}
VIEW_PARAM_OF: dict[QueueView, str] = {view: param for param, view in VIEW_PARAMS.items()}
ORDER_PARAMS: dict[str, QueueOrder] = {
    "antiguos": QueueOrder.WAITING,
    "recientes": QueueOrder.RECENT,
    "creados": QueueOrder.CREATED,
}
NOBODY_PARAM = "nadie"
# Dates outside these years are typing mistakes, and too far out for time-zone arithmetic.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)


class ConsoleLoginForm(EmailLoginForm):
    """The customers' login form (same authentication, so django-axes counts every failure),
    but a customer's right credentials are refused with words that say why."""

    error_messages = {
        **EmailLoginForm.error_messages,
        "not_staff": _(
            "This login is for staff. Customers log in to the client area with the link below."
        ),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        if not user.is_staff:
            raise forms.ValidationError(self.error_messages["not_staff"], code="not_staff")
        super().confirm_login_allowed(user)


@dataclass(frozen=True)
class QueueFilters:
    """What a queue page asks the selector for; every field has a harmless default."""

    view: QueueView = QueueView.UNASSIGNED
    department_id: int | None = None
    status: Status | None = None
    assignee: int | Literal["nobody"] | None = None
    customer: str = ""
    created_from: date | None = None
    created_to: date | None = None
    order: QueueOrder | None = None


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        # The browser's date picker reads and writes ISO dates, whatever the language.
        super().__init__(format="%Y-%m-%d")


class QueueFilterForm(forms.Form):
    """The queue's GET parameters. A parameter that does not validate is left out (and said
    so next to its field): the rest of the filters still apply."""

    vista = forms.ChoiceField(
        label=_("Queue"),
        required=False,
        choices=[
            ("sin-asignar", _("Unassigned")),
            ("mios", _("My tickets")),
            ("todos", _("All")),
        ],
        widget=forms.HiddenInput,
    )
    departamento = forms.ChoiceField(label=_("Department"), required=False)
    estado = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", pgettext_lazy("ticket status", "Any")), *Status.choices],
    )
    asignado = forms.ChoiceField(label=pgettext_lazy("ticket", "Assigned to"), required=False)
    cliente = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=200,
        help_text=_("Part of an e-mail, a name or an account name."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    desde = forms.DateField(
        label=pgettext_lazy("created between", "Created from"),
        required=False,
        widget=_DateInput(),
    )
    hasta = forms.DateField(
        label=pgettext_lazy("created between", "Created until"),
        required=False,
        widget=_DateInput(),
    )
    orden = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("", pgettext_lazy("sort order", "Default")),
            ("antiguos", _("Waiting longest first")),
            ("recientes", _("Latest activity first")),
            ("creados", _("Newest tickets first")),
        ],
    )

    def __init__(
        self,
        *args: Any,
        departments: Iterable[Department],
        staff: Iterable[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._departments = {department.slug: department for department in departments}
        self.fields["departamento"].choices = [  # type: ignore[attr-defined]
            ("", pgettext_lazy("department", "All my departments")),
            *((slug, department.name) for slug, department in self._departments.items()),
        ]
        self.fields["asignado"].choices = [  # type: ignore[attr-defined]
            ("", pgettext_lazy("assigned to", "Anybody")),
            (NOBODY_PARAM, pgettext_lazy("assigned to", "Nobody")),
            *((str(person.pk), person.display_name) for person in staff),
        ]

    def _check_day(self, name: str) -> date | None:
        day: date | None = self.cleaned_data.get(name)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(_("Enter a date between 1970 and 9998."))
        return day

    def clean_desde(self) -> date | None:
        return self._check_day("desde")

    def clean_hasta(self) -> date | None:
        return self._check_day("hasta")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("desde"), cleaned.get("hasta")
        if start and end and start > end:
            self.add_error("hasta", _("This date is before the “from” date."))
        return cleaned

    @property
    def narrows(self) -> bool:
        """Whether a filter (not the view, not the order) was asked for, valid or not."""
        names = ("departamento", "estado", "asignado", "cliente", "desde", "hasta")
        return any(self.data.get(name) for name in names)

    def filters(self) -> QueueFilters:
        """The valid parameters; call after `is_valid()` (whatever it answered)."""
        data = self.cleaned_data
        department = self._departments.get(data.get("departamento") or "")
        assignee_param = data.get("asignado") or ""
        assignee: int | Literal["nobody"] | None = None
        if assignee_param == NOBODY_PARAM:
            assignee = ASSIGNED_TO_NOBODY
        elif assignee_param:
            assignee = int(assignee_param)
        status_param = data.get("estado") or ""
        return QueueFilters(
            view=VIEW_PARAMS.get(data.get("vista") or "", QueueView.UNASSIGNED),
            department_id=department.pk if department is not None else None,
            status=Status(status_param) if status_param else None,
            assignee=assignee,
            customer=data.get("cliente") or "",
            created_from=data.get("desde"),
            created_to=data.get("hasta"),
            order=ORDER_PARAMS.get(data.get("orden") or ""),
        )
