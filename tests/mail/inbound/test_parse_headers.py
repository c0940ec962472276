"""Parse: who wrote, what about, and which headers are believed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from atiende.mail.inbound.types import AuthResult
from tests.mail.inbound.parse_support import mail, parse


class TestIdentity:
    def test_from_address_is_the_from_addr_spec_never_the_display_name_reply_to_or_sender(self):
        parsed = parse(
            mail(
                """
                From: "Soporte <victim@example.com>" <attacker@evil.test>
                Reply-To: victim@example.com
                Sender: victim@example.com
                To: soporte@atiende.test
                Subject: hola
                """
            )
        )
        assert parsed.from_address == "attacker@evil.test"
        assert parsed.from_name == "Soporte <victim@example.com>"

    def test_an_address_inside_an_encoded_display_name_is_not_the_sender(self):
        parsed = parse(
            mail(
                """
                From: =?utf-8?q?victim=40example=2Ecom?= <attacker@evil.test>
                Subject: hola
                """
            )
        )
        assert parsed.from_address == "attacker@evil.test"
        assert parsed.from_name == "victim@example.com"

    def test_the_address_is_lower_cased(self):
        parsed = parse(mail("From: Ana <Ana.Perez@Example.COM>"))
        assert parsed.from_address == "ana.perez@example.com"

    def test_several_addresses_in_from_give_no_identity(self):
        parsed = parse(mail("From: ana@example.com, beto@example.com"))
        assert parsed.from_address == ""
        assert any("2 addresses" in defect for defect in parsed.defects)

    def test_two_from_headers_give_no_identity(self):
        parsed = parse(mail("From: ana@example.com\nFrom: beto@example.com"))
        assert parsed.from_address == ""

    def test_an_unreadable_from_gives_no_identity(self):
        for value in ("Ana", "<>", "Big Bug bb@bug.com", "@example.com", "ana@", "(" * 5000):
            assert parse(mail(f"From: {value}")).from_address == "", value

    def test_no_from_at_all(self):
        parsed = parse(mail("Subject: hola"))
        assert (parsed.from_address, parsed.from_name) == ("", "")

    def test_utf8_addresses_of_rfc_6532_are_read(self):
        parsed = parse(mail('From: "Jöhn" <jdöe@mächine.example>'))
        assert parsed.from_address == "jdöe@mächine.example"
        assert parsed.from_name == "Jöhn"

    def test_to_and_cc_are_lists_of_addresses(self):
        parsed = parse(
            mail(
                """
                From: ana@example.com
                To: Soporte <Soporte@Atiende.test>, ventas@atiende.test
                To: otro@atiende.test
                Cc: "Beto, B." <beto@example.com>
                """
            )
        )
        assert parsed.to == ("soporte@atiende.test", "ventas@atiende.test", "otro@atiende.test")
        assert parsed.cc == ("beto@example.com",)

    def test_return_path(self):
        assert parse(mail("From: a@example.com")).return_path is None
        assert parse(mail("Return-Path: <>")).return_path == ""
        assert parse(mail("Return-Path: <Bounce@X.example>")).return_path == ("bounce@x.example")


class TestThreadingHeaders:
    def test_message_ids_as_sent(self):
        parsed = parse(
            mail(
                """
                Message-ID: <abc@mail.example.com>
                In-Reply-To: <t-1@atiende.test>
                References: <root@atiende.test>
                 <t-1@atiende.test>
                """
            )
        )
        assert parsed.message_id == "<abc@mail.example.com>"
        assert parsed.in_reply_to == ("<t-1@atiende.test>",)
        assert parsed.references == ("<root@atiende.test>", "<t-1@atiende.test>")

    def test_absent_or_empty(self):
        parsed = parse(mail("In-Reply-To:\nReferences: garbage"))
        assert (parsed.message_id, parsed.in_reply_to, parsed.references) == ("", (), ())

    def test_a_message_id_without_brackets_gets_them(self):
        assert parse(mail("Message-ID: abc@example.com")).message_id == ("<abc@example.com>")

    def test_very_long_references_keep_the_root_and_the_latest(self):
        ids = " ".join(f"<m{number}@example.com>" for number in range(1000))
        parsed = parse(mail(f"References: {ids}"))
        assert len(parsed.references) == 200
        assert parsed.references[0] == "<m0@example.com>"
        assert parsed.references[-1] == "<m999@example.com>"


class TestDate:
    def test_with_its_offset(self):
        parsed = parse(mail("Date: Tue, 3 Apr 2012 16:23:59 +0400"))
        assert parsed.date == datetime(2012, 4, 3, 16, 23, 59, tzinfo=timezone(timedelta(hours=4)))

    def test_without_a_known_zone_it_is_utc(self):
        parsed = parse(mail("Date: Tue, 3 Apr 2012 16:23:59 -0000"))
        assert parsed.date == datetime(2012, 4, 3, 16, 23, 59, tzinfo=UTC)

    def test_an_unreadable_date_is_none(self):
        parsed = parse(mail("Date: el martes por la tarde"))
        assert parsed.date is None
        assert "unreadable Date" in parsed.defects


class TestSubject:
    def test_encoded_words_also_split_in_the_middle_of_a_character(self):
        # "canción" in UTF-8, base64 cut between the two bytes of "ó"
        parsed = parse(mail("Subject: =?utf-8?b?Y2FuY2nD?= =?utf-8?b?s24=?="))
        assert parsed.subject == "canción"

    def test_quoted_printable_words_in_another_charset(self):
        parsed = parse(mail("Subject: =?iso-8859-1?q?Se=F1or_Pe=F1a?= y algo"))
        assert parsed.subject == "Señor Peña y algo"

    def test_raw_utf8_of_rfc_6532(self):
        assert parse(mail("Subject: Säying Hello ñandú")).subject == "Säying Hello ñandú"

    def test_raw_8bit_in_an_old_charset(self):
        raw = b"Subject: Formaci\xf3n y Verano\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        assert parse(raw + b"\r\nhola\r\n").subject == "Formación y Verano"

    def test_folded_onto_one_line_without_control_characters(self):
        parsed = parse(
            mail("Subject: =?utf-8?q?uno=0D=0ABcc=3A_x=40evil=2Etest?=\n dos \u202etres\x07")
        )
        assert parsed.subject == "uno Bcc: x@evil.test dos tres"
        assert not any(char in parsed.subject for char in "\r\n\x07\u202e")

    def test_an_unknown_charset_or_bad_base64_does_not_raise(self):
        assert parse(mail("Subject: =?x-nada?q?hola?=")).subject == "hola"
        assert parse(mail("Subject: =?NONE?B?VEVTVA=?=")).subject == "TEST"
        assert parse(mail("Subject: =?utf-8?b?####?= fin")).subject.endswith("fin")


class TestHeadersShown:
    def test_our_own_headers_from_outside_are_dropped(self):
        parsed = parse(
            mail(
                """
                From: ana@example.com
                X-Atiende-Ticket: ATN-1111-111
                x-atiende-anything: 1
                X-Mailer: Thunderbird
                """
            )
        )
        names = [name.lower() for name, _ in parsed.headers]
        assert not any(name.startswith("x-atiende-") for name in names)
        assert parsed.header("X-Mailer") == "Thunderbird"
        assert parsed.header("x-atiende-ticket") is None

    def test_only_our_authentication_results_are_believed(self):
        parsed = parse(
            mail(
                """
                Authentication-Results: mx.atiende.test;
                    dkim=pass header.d=example.com header.s=sel;
                    spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com;
                    dmarc=fail (p=reject dis=none) header.from=example.com
                Received: from mail.example.com by mx.atiende.test
                Authentication-Results: mx.evil.test; dmarc=pass header.from=example.com
                Authentication-Results: mx.atiende.test.evil.test; dmarc=pass
                From: ana@example.com
                """
            )
        )
        assert parsed.auth_results == (
            AuthResult(method="dkim", result="pass"),
            AuthResult(method="spf", result="pass"),
            AuthResult(method="dmarc", result="fail", header_from="example.com"),
        )
        shown = [value for name, value in parsed.headers if name == "Authentication-Results"]
        assert len(shown) == 1
        assert shown[0].startswith("mx.atiende.test;")

    def test_the_authserv_id_may_carry_a_version_and_any_case(self):
        parsed = parse(mail("Authentication-Results: MX.Atiende.Test 1; DMARC=None"))
        assert parsed.auth_results == (AuthResult(method="dmarc", result="none"),)

    def test_with_no_authserv_id_none_is_believed_and_all_are_dropped(self):
        parsed = parse(mail("Authentication-Results: mx.atiende.test; dmarc=pass"), authserv_id="")
        assert parsed.auth_results == ()
        assert parsed.header("Authentication-Results") is None

    def test_several_of_ours_are_a_defect(self):
        parsed = parse(
            mail(
                "Authentication-Results: mx.atiende.test; dmarc=fail\n"
                "Authentication-Results: mx.atiende.test; dmarc=pass"
            )
        )
        assert "several Authentication-Results carry our authserv-id" in parsed.defects

    def test_values_are_decoded_one_line_and_in_order(self):
        parsed = parse(
            mail(
                """
                X-Uno: =?utf-8?q?caf=C3=A9?=
                X-Dos: a
                  b
                X-Uno: segundo
                """
            )
        )
        assert parsed.headers == (("X-Uno", "café"), ("X-Dos", "a b"), ("X-Uno", "segundo"))
        assert parsed.header("x-uno") == "café"

    def test_malformed_headers_do_not_raise(self):
        parsed = parse(
            b'From: "unterminated <ana@example.com>\r\nTo: ,,,@@,\r\n'
            b'Content-Type: text/plain; charset="\r\nContent-Disposition: ;;;=\r\n'
            b"Date: 99 Foo 99999 99:99:99\r\nMessage-ID: <<<>>>\r\nX-Bin: \xff\xfe\x00\r\n\r\nhola"
        )
        assert parsed.text == "hola"
