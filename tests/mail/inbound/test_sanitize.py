"""HTML from e-mail is safe to show: an allow-list, links that leak nothing, no remote images."""

from __future__ import annotations

import time

import pytest

from atiende.mail.inbound.sanitize import html_render, html_sanitize

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "<svg onload=alert(1)><circle/></svg>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input type="password"></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="width:expression(alert(1))">x</p>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<<script>alert(1)//<</script>",
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<a href="vbscript:msgbox(1)">x</a>',
    "<details open ontoggle=alert(1)>",
    "<button formaction=javascript:alert(1)>x</button>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_runs(attack: str):
    for html in (html_sanitize(attack), html_render(f"<p>hola</p>{attack}").html):
        lowered = html.lower()
        for forbidden in (
            "<script",
            "javascript:",
            "vbscript:",
            "onerror",
            "onload",
            "ontoggle",
            "<iframe",
            "<object",
            "<embed",
            "<form",
            "<meta",
            "<base",
            "style=",
            "<svg",
            "data:text",
            "data:image/svg",
            "<button",
            "formaction",
        ):
            assert forbidden not in lowered, (attack, html)


def test_links_leak_no_referrer_and_get_no_ranking():
    html = html_sanitize('<a href="https://example.com/a?b=1" target="_top">x</a>')
    assert html == ('<a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow">x</a>')


def test_only_web_and_mail_links():
    assert html_sanitize('<a href="mailto:ana@example.com">a</a>').startswith('<a href="mailto:')
    for href in ("ftp://x.example/f", "file:///etc/passwd", "/relative", "tel:123", "cid:x"):
        assert "href" not in html_sanitize(f'<a href="{href}">a</a>'), href


def test_images_only_from_the_message_itself():
    assert html_sanitize('<img src="cid:logo@x" alt="a">') == '<img src="cid:logo@x" alt="a">'
    png = '<img src="data:image/png;base64,iVBORw0KGgo=">'
    assert html_sanitize(png) == png
    assert "src" not in html_sanitize('<img src="https://tracker.example/p.gif">')


def test_remote_images_leave_their_alt_text_or_nothing():
    rendered = html_render(
        '<p>Logo: <img src="https://x.example/l.png" alt="ACME">'
        '<img src="http://t.example/pixel.gif" width="1" height="1"></p>'
    )
    assert rendered.html == "<p>Logo: ACME</p>"
    assert rendered.text == "Logo: ACME"


def test_no_classes_ids_or_styles_survive():
    rendered = html_render(
        '<div class="gmail_default" id="x" style="color:red" dir="rtl">hola</div>'
    )
    assert rendered.html == '<div dir="rtl">hola</div>'


def test_oversized_image_dimensions_are_dropped():
    assert html_sanitize('<img src="cid:a" width="99999" height="20">') == (
        '<img src="cid:a" height="20">'
    )


def test_text_version_of_structure():
    rendered = html_render(
        "<h1>Título</h1><p>Uno<br>dos</p><ol><li>a</li><li>b</li></ol>"
        "<table><tr><td>x</td><td>y</td></tr></table><pre>  code\n    here</pre>"
        '<p><a href="https://example.com">https://example.com</a></p>'
    )
    assert rendered.text == (
        "Título\n\nUno\ndos\n\n- a\n- b\nx y\n\n  code\n    here\n\nhttps://example.com"
    )


def test_empty_or_invisible_html():
    for html in ("", "   ", "<html><head><style>x</style></head><body> </body></html>", "\x00"):
        rendered = html_render(html)
        assert (rendered.html, rendered.text, rendered.quoted) == ("", "", "")


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * 100_000 + "hondo",
        "<blockquote>" * 50_000 + "hondo",
        "<table><tr><td>" * 30_000,
        "<p>a<b>b</b></p>\n" * 150_000,
        "<b><i>" * 50_000,
    ],
    ids=["divs", "blockquotes", "tables", "many-elements", "formatting"],
)
def test_hostile_structure_takes_bounded_time(html: str):
    started = time.monotonic()
    html_render(html)
    assert time.monotonic() - started < 10
