"""`atiende token create|list|revoke`: API tokens from the command line.

- `atiende token create --user EMAIL [--scope read|write|admin] [--name NAME]` prints the new
  token's secret alone on standard output (so that `$(atiende token create ...)` captures
  exactly it) and a note on standard error. The secret is shown this once: only its digest is
  stored.
- `atiende token list [--user EMAIL]` prints one line per token: prefix, user, scope, created,
  last used, state, name. Never a secret.
- `atiende token revoke PREFIX` revokes the token with that prefix (whoever's it is: the
  command line is the operator's). Revoking a revoked token changes nothing.

A refusal (an unknown user, a customer, the admin scope for a non-administrator) is a
CommandError: one line on standard error, exit status 1, no traceback.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from atiende.accounts.models import User
from atiende.api.models import ApiToken, Scope
from atiende.api.tokens import token_create, token_revoke
from atiende.core.errors import DomainError
from atiende.core.text import normalize_email

DEFAULT_NAME = "CLI"
HEADER = ("PREFIX", "USER", "SCOPE", "CREATED", "LAST USED", "STATE", "NAME")


def _when(moment: datetime | None, default: str = "") -> str:
    if moment is None:
        return default
    return timezone.localtime(moment).isoformat(timespec="minutes")


def _plain(text: str) -> str:
    """A note on standard error is not an error: not drawn in the error colour."""
    return text


def _user(email: str) -> User:
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None:
        raise CommandError(f"No user with the e-mail address {email!r}.")
    return user


class Command(BaseCommand):
    help = "API tokens: create one (its secret is printed once), list them, revoke one."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create",
            help="create a token for a staff user and print its secret, once",
            description="Create an API token for a staff user. The secret is printed alone "
            "on standard output and cannot be shown again.",
        )
        create.add_argument("--user", required=True, metavar="EMAIL", help="the staff user")
        create.add_argument(
            "--scope",
            choices=[scope.value for scope in Scope],
            default=Scope.READ.value,
            help="what the token may do (default: read); admin is for administrators only",
        )
        create.add_argument(
            "--name",
            default=DEFAULT_NAME,
            help=f"what will use the token, to recognise it in lists (default: {DEFAULT_NAME})",
        )
        listing = actions.add_parser(
            "list", help="list tokens (never their secrets)", description="List API tokens."
        )
        listing.add_argument("--user", metavar="EMAIL", help="only this user's tokens")
        revoke = actions.add_parser(
            "revoke",
            help="revoke the token with this prefix",
            description="Revoke an API token: requests that send it are refused from now on.",
        )
        revoke.add_argument("prefix", metavar="PREFIX", help="the token's prefix, as listed")

    def execute(self, *args: Any, **options: Any) -> str | None:
        # The command speaks English like the other operator commands: the domain's refusals
        # too, not the Spanish of the web interface's default.
        with translation.override("en"):
            return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(email=options["user"], scope=options["scope"], name=options["name"])
        elif action == "list":
            self._list(email=options.get("user"))
        elif action == "revoke":
            self._revoke(prefix=options["prefix"])
        else:  # argparse refuses any other
            raise CommandError(f"Unknown action {action!r}: use create, list or revoke.")

    def _create(self, *, email: str, scope: str, name: str) -> None:
        user = _user(email)
        try:
            token, secret = token_create(user=user, name=name, scope=scope, created_by=None)
        except DomainError as error:
            raise CommandError(f"No token created for {user.email}: {error.message}") from None
        self.stdout.write(secret)
        self.stderr.write(
            f"Token {token.prefix}… (“{token.name}”, scope {token.scope}) created for "
            f"{user.email}. The line above is its secret: it is shown only now and cannot be "
            "shown again. Programs send it as the header 'Authorization: Bearer <token>'.",
            style_func=_plain,
        )

    def _list(self, *, email: str | None) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
        if email is not None:
            tokens = tokens.filter(user=_user(email))
        rows = [
            (
                token.prefix,
                token.user.email,
                token.scope,
                _when(token.created_at),
                _when(token.last_used_at, "never"),
                "active" if token.is_active else f"revoked {_when(token.revoked_at)}",
                token.name,
            )
            for token in tokens
        ]
        if not rows:
            self.stderr.write("No API tokens.", style_func=_plain)
            return
        widths = [max(len(row[column]) for row in [HEADER, *rows]) for column in range(6)]
        for row in [HEADER, *rows]:
            cells = [cell.ljust(width) for cell, width in zip(row[:6], widths, strict=True)]
            self.stdout.write("  ".join([*cells, row[6]]))

    def _revoke(self, *, prefix: str) -> None:
        # Accept the prefix as the console shows it, with its ellipsis.
        prefix = prefix.strip().rstrip("…").rstrip(".")
        token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"No token with the prefix {prefix!r}.")
        was_active = token.is_active
        # Its owner may always revoke it: the command line acts for the operator, not a user.
        token = token_revoke(token_id=token.pk, by=token.user)
        if was_active:
            self.stdout.write(
                f"Token {token.prefix}… (“{token.name}”, of {token.user.email}) revoked."
            )
        else:
            self.stdout.write(
                f"Token {token.prefix}… was already revoked ({_when(token.revoked_at)})."
            )
