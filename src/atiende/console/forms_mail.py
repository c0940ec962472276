"""The form of the quarantine's "Accept into a ticket": for which account, and which ticket.

The account is typed (a customer's e-mail address or the account's name) and looked up:
a list of every account would not fit on a page. A lookup that finds none, or several,
says so next to the field, with what was typed still in it.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atiende.accounts.models import Account
from atiende.accounts.selectors import account_find

# How many of the accounts that match an ambiguous lookup the error names.
AMBIGUOUS_NAMED = 5
# Longer than any way of typing a ticket ID.
TICKET_ID_MAX = 40


class QuarantineAcceptForm(forms.Form):
    account = forms.CharField(
        label=_("Account"),
        max_length=254,
        help_text=_("A customer's e-mail address, or the account's name."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    ticket = forms.CharField(
        label=_("Add to ticket ID (optional)"),
        max_length=TICKET_ID_MAX,
        required=False,
        help_text=_("A ticket of that account. Leave it empty to open a new ticket."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_account(self) -> Account:
        typed = " ".join(str(self.cleaned_data["account"]).split())
        found = account_find(query=typed, limit=AMBIGUOUS_NAMED + 1)
        if not found:
            raise ValidationError(
                _(
                    "No account found for “%(query)s”. Type a customer's e-mail address or "
                    "the account's name."
                ),
                code="not_found",
                params={"query": typed},
            )
        if len(found) > 1:
            names = ", ".join(account.name for account in found[:AMBIGUOUS_NAMED])
            if len(found) > AMBIGUOUS_NAMED:
                names += ", …"
            raise ValidationError(
                _(
                    "Several accounts match “%(query)s”: %(names)s. Type the account's whole "
                    "name, or the e-mail address of one of its customers."
                ),
                code="ambiguous",
                params={"query": typed, "names": names},
            )
        return found[0]

    def clean_ticket(self) -> str | None:
        return " ".join(str(self.cleaned_data.get("ticket") or "").split()) or None
