"""The guard decides, from the parsed message alone, what must never open a ticket, never be
answered, or not get in unchecked. No database: it is a pure function."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from atiende.mail.inbound.guard import Action, guard_check
from atiende.mail.inbound.types import AuthResult, ParsedMessage
from tests.mail.inbound.ingest_support import parsed_message, with_headers

LIMIT = 30


def check(parsed: ParsedMessage, *, recent: int = 0, **kwargs: Any) -> Any:
    with translation.override("en"):
        return guard_check(parsed, sender_recent_count=recent, hourly_limit=LIMIT, **kwargs)


def test_a_person_s_message_proceeds() -> None:
    assert check(parsed_message()).action is Action.PROCEED


class TestAutomaticMessagesAreIgnored:
    @pytest.mark.parametrize(
        "header",
        [
            ("Auto-Submitted", "auto-replied"),
            ("Auto-Submitted", "auto-generated"),
            ("Auto-Submitted", "auto-notified; owner-email=x@example.com"),
            ("Precedence", "bulk"),
            ("Precedence", "junk"),
            ("Precedence", "list"),
            ("Precedence", "auto_reply"),
            ("X-Autoreply", "yes"),
            ("X-Autorespond", "Out of office"),
            ("X-AutoReply-From", "ana@example.com"),
            ("X-Mail-Autoreply", "yes"),
            ("X-FC-MachineGenerated", "true"),
            ("X-Auto-Response-Suppress", "All"),
            ("X-Auto-Response-Suppress", "DR, OOF, AutoReply"),
            ("List-Id", "<clientes.example.com>"),
            ("List-Unsubscribe", "<mailto:leave@example.com>"),
        ],
    )
    def test_by_its_headers(self, header: tuple[str, str]) -> None:
        verdict = check(with_headers(parsed_message(), header))
        assert verdict.action is Action.IGNORE
        assert verdict.reason

    @pytest.mark.parametrize(
        "header",
        [("Auto-Submitted", "no"), ("X-Auto-Response-Suppress", "DR, RN, NRN")],
    )
    def test_but_not_by_headers_a_person_s_mail_carries(self, header: tuple[str, str]) -> None:
        assert check(with_headers(parsed_message(), header)).action is Action.PROCEED

    def test_the_null_sender(self) -> None:
        assert check(parsed_message(return_path="")).action is Action.IGNORE
        assert check(parsed_message(return_path=None)).action is Action.PROCEED

    @pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.com", "postmaster@example.com"])
    def test_a_mailer_daemon(self, sender: str) -> None:
        verdict = check(parsed_message(from_address=sender.lower()))
        assert verdict.action is Action.IGNORE


class TestLoops:
    def test_mail_from_our_own_sending_address_is_ignored(self, settings: Any) -> None:
        settings.DEFAULT_FROM_EMAIL = "Atiende <Soporte@Atiende.Test>"
        verdict = check(parsed_message(from_address="soporte@atiende.test"))
        assert verdict.action is Action.IGNORE
        assert "Loop" in verdict.reason

    def test_mail_from_a_department_s_address_is_ignored(self) -> None:
        verdict = check(
            parsed_message(from_address="ventas@atiende.test"),
            own_addresses={"Ventas@Atiende.Test"},
        )
        assert verdict.action is Action.IGNORE

    def test_our_own_message_come_back_is_ignored(self, settings: Any) -> None:
        ours = f"<abc123@{settings.ATIENDE_MAIL_DOMAIN}>"
        assert check(parsed_message(message_id=ours)).action is Action.IGNORE


def test_a_delivery_report_is_a_bounce_naming_the_reported_messages() -> None:
    verdict = check(
        parsed_message(
            from_address="mailer-daemon@mx.example.com",
            return_path="",
            is_delivery_report=True,
            reported_message_ids=("<one@atiende.localhost>", "<two@atiende.localhost>"),
        )
    )
    assert verdict.action is Action.BOUNCE
    assert verdict.reported_message_ids == ("<one@atiende.localhost>", "<two@atiende.localhost>")


class TestDmarc:
    def test_a_failed_dmarc_for_the_from_domain_quarantines(self) -> None:
        failed = (AuthResult(method="dmarc", result="fail", header_from="example.com"),)
        verdict = check(parsed_message(auth_results=failed))
        assert verdict.action is Action.QUARANTINE
        assert "DMARC" in verdict.reason

    def test_however_many_other_results_passed(self) -> None:
        results = (
            AuthResult(method="spf", result="pass"),
            AuthResult(method="dkim", result="pass"),
            AuthResult(method="dmarc", result="pass", header_from="example.com"),
            AuthResult(method="dmarc", result="fail", header_from="EXAMPLE.COM"),
        )
        assert check(parsed_message(auth_results=results)).action is Action.QUARANTINE

    def test_a_result_for_another_domain_says_nothing_about_this_from(self) -> None:
        other = (AuthResult(method="dmarc", result="fail", header_from="example.net"),)
        assert check(parsed_message(auth_results=other)).action is Action.PROCEED

    def test_no_result_at_all_proceeds(self) -> None:
        assert check(parsed_message(auth_results=())).action is Action.PROCEED


class TestRate:
    def test_the_thirtieth_message_of_the_hour_proceeds(self) -> None:
        assert check(parsed_message(), recent=LIMIT - 1).action is Action.PROCEED

    def test_the_thirty_first_is_quarantined(self) -> None:
        verdict = check(parsed_message(), recent=LIMIT)
        assert verdict.action is Action.QUARANTINE
        assert verdict.reason.startswith("Rate")

    def test_automatic_messages_are_ignored_before_the_rate_counts(self) -> None:
        storm = with_headers(parsed_message(), ("Auto-Submitted", "auto-replied"))
        assert check(storm, recent=1000).action is Action.IGNORE


def test_a_message_without_a_readable_from_is_quarantined() -> None:
    assert check(parsed_message(from_address="")).action is Action.QUARANTINE
