"""The guard: what must never open a ticket, be answered, or get in unchecked.

Pure: a function of the parsed message, the sender's count of messages in the last hour, and
our own addresses. The order of the checks is the order of the reasons a staff member reads:

1. a loop: a message from one of our own addresses, or carrying one of our own Message-IDs
   as its own (our mail came back) -> ignore;
2. a delivery status notification (multipart/report; delivery-status) -> bounce, naming the
   Message-IDs it reports (ingest marks those of our outbox bounced);
3. an automatic message: Auto-Submitted other than "no", Precedence bulk/junk/list/auto_reply,
   the auto-responders' own headers (X-Autoreply, X-Autorespond, X-AutoReply-From,
   X-Mail-Autoreply, X-FC-MachineGenerated; X-Auto-Response-Suppress naming All, OOF or
   AutoReply, which Exchange puts on its own automatic mail), a mailing list (List-Id,
   List-Unsubscribe) -> ignore;
4. the null sender (Return-Path <>) or a MAILER-DAEMON/postmaster From -> ignore;
5. no readable From -> quarantine;
6. DMARC failed for the From domain, by our own receiving server -> quarantine, however
   authorized the From looks;
7. more than `hourly_limit` messages in an hour from one sender -> quarantine ("rate").

Ignored messages are stored and never answered; nothing in this module sends anything.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.utils.translation import gettext as _

from atiende.core.text import normalize_email
from atiende.mail.inbound.types import ParsedMessage

# Headers only automatic senders set; their mere presence marks the message as automatic.
AUTOMATIC_HEADERS = (
    "X-Autoreply",
    "X-Autorespond",
    "X-AutoReply-From",
    "X-Mail-Autoreply",
    "X-FC-MachineGenerated",
)
# X-Auto-Response-Suppress values of automatic mail; "DR, RN, NRN" (no receipts, please) is
# also set on mail a person wrote.
SUPPRESS_AUTOMATIC = frozenset({"all", "oof", "autoreply"})
# A mailing list's message is bulk mail, whoever is in its From.
LIST_HEADERS = ("List-Id", "List-Unsubscribe")
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})


class Action(enum.StrEnum):
    PROCEED = "proceed"
    IGNORE = "ignore"
    BOUNCE = "bounce"
    QUARANTINE = "quarantine"


@dataclass(frozen=True)
class Verdict:
    """What ingest does with the message: go on, or stop here with `reason` recorded."""

    action: Action
    reason: str = ""
    reported_message_ids: tuple[str, ...] = ()

    @classmethod
    def proceed(cls) -> Verdict:
        return cls(Action.PROCEED)

    @classmethod
    def ignore(cls, reason: str) -> Verdict:
        return cls(Action.IGNORE, reason)

    @classmethod
    def bounce(cls, reported_message_ids: tuple[str, ...]) -> Verdict:
        return cls(
            Action.BOUNCE,
            _("Delivery status notification."),
            reported_message_ids=reported_message_ids,
        )

    @classmethod
    def quarantine(cls, reason: str) -> Verdict:
        return cls(Action.QUARANTINE, reason)


def settings_addresses() -> frozenset[str]:
    """The addresses our notifications leave from (DEFAULT_FROM_EMAIL, SERVER_EMAIL)."""
    found = set()
    for configured in (settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL):
        address = normalize_email(parseaddr(str(configured))[1])
        if address:
            found.add(address)
    return frozenset(found)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _is_ours(message_id: str) -> bool:
    return message_id.strip().lower().endswith(f"@{settings.ATIENDE_MAIL_DOMAIN.lower()}>")


def dmarc_result(parsed: ParsedMessage) -> str | None:
    """Our server's DMARC result for the From domain ("pass", "fail", ...), or None.

    The parser kept only the Authentication-Results of our own authserv-id. A result written
    for another domain than the From's says nothing about this From.
    """
    domain = _domain(parsed.from_address)
    if not domain:
        return None
    results = [
        result.result.lower()
        for result in parsed.auth_results
        if result.method.lower() == "dmarc"
        and (not result.header_from or result.header_from.lower().rstrip(".") == domain)
    ]
    if "fail" in results:
        return "fail"
    return results[0] if results else None


def _automatic_reason(parsed: ParsedMessage) -> str | None:
    auto_submitted = (parsed.header("Auto-Submitted") or "").strip()
    if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
        return _("Automatic message (Auto-Submitted: %(value)s).") % {"value": auto_submitted}
    precedence = (parsed.header("Precedence") or "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return _("Bulk or automatic message (Precedence: %(value)s).") % {"value": precedence}
    for name in AUTOMATIC_HEADERS:
        if parsed.header(name) is not None:
            return _("Automatic message (%(header)s).") % {"header": name}
    suppress = (parsed.header("X-Auto-Response-Suppress") or "").lower().replace(",", " ")
    if SUPPRESS_AUTOMATIC.intersection(suppress.split()):
        return _("Automatic message (%(header)s).") % {"header": "X-Auto-Response-Suppress"}
    for name in LIST_HEADERS:
        if parsed.header(name) is not None:
            return _("Mailing list message (%(header)s).") % {"header": name}
    return None


def guard_check(
    parsed: ParsedMessage,
    *,
    sender_recent_count: int,
    hourly_limit: int,
    own_addresses: Collection[str] = (),
) -> Verdict:
    """The verdict on one parsed message (see the module's docstring for the order).

    `sender_recent_count`: messages received from the same From in the last hour, this one
    not counted. `own_addresses`: our departments' addresses, beside the ones in settings.
    """
    sender = normalize_email(parsed.from_address)
    ours = settings_addresses() | {normalize_email(address) for address in own_addresses}
    if sender and sender in ours:
        return Verdict.ignore(
            _("Loop: the message comes from our own address %(address)s.") % {"address": sender}
        )
    if parsed.message_id and _is_ours(parsed.message_id):
        return Verdict.ignore(_("Loop: the message carries one of our own Message-IDs."))
    if parsed.is_delivery_report:
        return Verdict.bounce(parsed.reported_message_ids)
    automatic = _automatic_reason(parsed)
    if automatic:
        return Verdict.ignore(automatic)
    if parsed.return_path == "":
        return Verdict.ignore(_("Automatic message (null sender: Return-Path <>)."))
    if sender.partition("@")[0] in DAEMON_LOCAL_PARTS:
        return Verdict.ignore(_("Automatic message (from %(address)s).") % {"address": sender})
    if not sender:
        return Verdict.quarantine(_("The message has no readable From address."))
    if dmarc_result(parsed) == "fail":
        return Verdict.quarantine(
            _("DMARC failed for %(domain)s: the From address may be forged.")
            % {"domain": _domain(sender)}
        )
    if sender_recent_count >= hourly_limit:
        return Verdict.quarantine(
            _("Rate: more than %(limit)d messages in an hour from %(address)s.")
            % {"limit": hourly_limit, "address": sender}
        )
    return Verdict.proceed()
