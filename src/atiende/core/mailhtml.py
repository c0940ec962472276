"""The HTML of a received e-mail as a page shows it, its inline images linked to their files.

Ingest stores `Message.body_html` already sanitized (nh3 with an allow-list, see
mail/inbound/sanitize.py), with each inline image as `cid:<Attachment.public_id>`. Each site
serves attachments at its own URL (after its own access check), so the page that shows the
message resolves those links, against that message's own attachments only: a `cid:` naming
anything else stays as it is, and a browser loads nothing from a `cid:` link.

No app is imported here: the caller passes the URLs of the message's files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# A link attribute as the sanitizer writes it (double quotes, no spaces) naming a public_id.
_CID_LINK = re.compile(
    r'(?P<attribute>\s(?:src|href)=")cid:'
    r'(?P<public_id>[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})"',
    re.IGNORECASE,
)


def cid_links_resolve(html: str, urls: Mapping[str, str]) -> str:
    """`html` with each `src`/`href` of `cid:<public_id>` that `urls` knows (by the public_id
    in lower case) replaced by its URL; the other links are left as they are."""
    if not html or not urls:
        return html

    def swap(match: re.Match[str]) -> str:
        url = urls.get(match.group("public_id").lower())
        if url is None:
            return match.group(0)
        return f'{match.group("attribute")}{escape(url)}"'

    return _CID_LINK.sub(swap, html)


def mail_html(html: str, urls: Mapping[str, str]) -> SafeString:
    """The stored HTML of an e-mail, ready for a template, `cid:` links resolved by `urls`."""
    # The one place e-mail HTML is marked safe: `html` is Message.body_html, which ingest
    # sanitized with nh3's allow-list before storing it (no script, style, event handler,
    # form, frame or remote image can be in it), and the only change made here puts a URL
    # we built, escaped, in place of a `cid:` link inside an attribute the sanitizer wrote.
    return mark_safe(cid_links_resolve(html, urls))
