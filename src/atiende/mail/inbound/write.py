"""The last step of ingest (and of a message staff accept from quarantine): the message's
content into a ticket, through the ticket services, inside the caller's transaction.

- The text is what the person wrote; the quoted history and the sanitized HTML are kept beside
  it on the message. A text longer than a message takes is cut, and attached whole as
  message.txt.
- Attachments go through the same rules as the portal's (tickets.attachments), one by one: a
  file the rules refuse (a program, over the department's limits) does not cost the message;
  it is stored without it, with a line in its text naming each refused file and why (the raw
  message keeps them for staff).
- Inline images are attachments too; in `Message.body_html` each `cid:<Content-ID>` that named
  one becomes `cid:<that Attachment's public_id>`. The HTML is shown on two sites with two
  download URLs, so the page that shows it turns those into links, resolving them against the
  message's own attachments only; a `cid:` it does not know stays inert.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from django.core.files.base import ContentFile
from django.utils.html import escape
from django.utils.translation import gettext as _

from atiende.accounts.models import Department, User
from atiende.core.errors import DomainError
from atiende.core.text import strip_control
from atiende.mail.inbound.types import ParsedAttachment, ParsedMessage
from atiende.tickets.attachments import (
    MAX_FILES_PER_MESSAGE,
    attachments_validate,
    extension_of,
    filename_clean,
)
from atiende.tickets.models import Attachment, Channel, Message, Ticket
from atiende.tickets.services import (
    BODY_MAX,
    SUBJECT_MAX,
    message_mail_details_set,
    ticket_open,
    ticket_reply,
)

# Room kept in a message's text for the notes we add (refused files, a cut text).
NOTES_ROOM = 4000
WHOLE_TEXT_NAME = "message.txt"
# A nameless inline image gets the extension of its declared type: it is then served as an
# image (any other type is served as a download, which an <img> cannot show).
IMAGE_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_CID = re.compile(r"cid:([^\"'\s<>)]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Content:
    """What goes into the ticket: from a parsed message, or from a raw one staff accepted."""

    subject: str
    text: str
    quoted: str
    html: str
    attachments: tuple[ParsedAttachment, ...]
    sender_email: str


def content_of(parsed: ParsedMessage) -> Content:
    return Content(
        subject=parsed.subject,
        text=parsed.text,
        quoted=parsed.quoted,
        html=parsed.html,
        attachments=parsed.attachments,
        sender_email=parsed.from_address,
    )


def _attachment_name(attachment: ParsedAttachment) -> str:
    name = filename_clean(attachment.filename)
    declared = attachment.declared_type.split(";")[0].strip().lower()
    if not extension_of(name) and declared in IMAGE_EXTENSIONS:
        name = f"{name}.{IMAGE_EXTENSIONS[declared]}"
    return name


@dataclass(frozen=True)
class _Files:
    files: list[ContentFile[bytes]]
    stored: list[ParsedAttachment]  # in the order the files are stored
    refused: list[tuple[str, str]]  # (file name, why)


def _files_for(attachments: Sequence[ParsedAttachment], department: Department) -> _Files:
    """The attachments the ticket rules take, one by one, and the others with the reason."""
    files: list[ContentFile[bytes]] = []
    stored: list[ParsedAttachment] = []
    refused: list[tuple[str, str]] = []
    total = 0
    for attachment in attachments:
        name = _attachment_name(attachment)
        upload = ContentFile(attachment.data, name=name)
        try:
            attachments_validate([upload], department=department)
        except DomainError as error:
            refused.append((name, str(error.message)))
            continue
        if len(files) >= MAX_FILES_PER_MESSAGE:
            refused.append(
                (name, _("More than %(count)d files in one message.") % {"count": len(files)})
            )
            continue
        if total + upload.size > department.max_ticket_attachments_bytes:
            refused.append((name, _("The files of this message went over its size limit.")))
            continue
        total += upload.size
        files.append(upload)
        stored.append(attachment)
    return _Files(files=files, stored=stored, refused=refused)


def _text_cut(content: Content) -> tuple[str, ParsedAttachment | None]:
    """The text as a message takes it, and the whole text as a file when it had to be cut."""
    text = strip_control(content.text.replace("\r\n", "\n"), keep_newlines=True).strip()
    if not text:
        return _("(empty message)"), None
    if len(text) <= BODY_MAX - NOTES_ROOM:
        return text, None
    whole = ParsedAttachment(
        filename=WHOLE_TEXT_NAME, data=text.encode("utf-8"), declared_type="text/plain"
    )
    return text[: BODY_MAX - NOTES_ROOM].rstrip(), whole


def _notes(*, cut: bool, refused: list[tuple[str, str]]) -> list[str]:
    """What we say about the message's content that the sender did not write."""
    notes: list[str] = []
    if cut and WHOLE_TEXT_NAME not in {name for name, _why in refused}:
        notes.append(
            _("[The message was longer; its whole text is attached as %(name)s.]")
            % {"name": WHOLE_TEXT_NAME}
        )
    if refused:
        notes.append(_("[Files not attached, kept with the original e-mail:]"))
        notes.extend(f"- {name}: {why}"[:500] for name, why in refused[:20])
    return notes


def _html_with_notes(html: str, notes: list[str]) -> str:
    """The notes under an HTML message too (which is shown instead of the text), escaped."""
    if not html or not notes:
        return html
    return html + "".join(f'<p class="atiende-note">{escape(note)}</p>' for note in notes)


def _subject_for(content: Content) -> str:
    subject = " ".join(strip_control(" ".join(content.subject.split())).split())
    return subject[:SUBJECT_MAX] or _("(no subject)")


def cid_links_rewrite(html: str, public_ids: dict[str, uuid.UUID]) -> str:
    """`cid:<Content-ID>` links of `html` that name a stored inline image become
    `cid:<its Attachment's public_id>`; the others are left as they are."""
    if not html or not public_ids:
        return html

    def swap(match: re.Match[str]) -> str:
        content_id = unquote(match.group(1)).strip("<>").lower()
        public_id = public_ids.get(content_id)
        return f"cid:{public_id}" if public_id is not None else match.group(0)

    return _CID.sub(swap, html)


def _inline_public_ids(
    message: Message, stored: Sequence[ParsedAttachment]
) -> dict[str, uuid.UUID]:
    """Content-ID -> public_id of the stored attachments (stored in the order given)."""
    kept = list(Attachment.objects.filter(message=message).order_by("id"))
    return {
        attachment.content_id.strip("<>").lower(): row.public_id
        for attachment, row in zip(stored, kept, strict=False)
        if attachment.content_id
    }


def ticket_write(
    *,
    content: Content,
    user: User,
    ticket: Ticket | None,
    department: Department,
    submission_key: uuid.UUID,
) -> tuple[Ticket, Message]:
    """A reply on `ticket`, or a new ticket in `department` (for a reply: the ticket's, whose
    attachment limits apply), as `user`, through the ticket services (receipt and staff
    notices included). Runs inside the caller's transaction; DomainError when a ticket rule
    refuses the message as a whole."""
    text, whole = _text_cut(content)
    attachments = (*content.attachments, whole) if whole is not None else content.attachments
    files = _files_for(attachments, department)
    notes = _notes(cut=whole is not None, refused=files.refused)
    if notes:
        text = "\n\n".join([text, "\n".join(notes)])
    if ticket is not None:
        message = ticket_reply(
            ticket=ticket,
            author=user,
            body=text,
            files=files.files,
            channel=Channel.EMAIL,
            submission_key=submission_key,
        )
    else:
        ticket = ticket_open(
            customer=user,
            department=department,
            subject=_subject_for(content),
            body=text,
            files=files.files,
            channel=Channel.EMAIL,
            submission_key=submission_key,
        )
        first = ticket.messages.order_by("created_at", "id").first()
        if first is None:  # ticket_open writes the first message with the ticket
            raise RuntimeError(f"ticket {ticket.reference} has no message")
        message = first
    message_mail_details_set(
        message=message,
        sender_email=content.sender_email,
        quoted=content.quoted,
        body_html=_html_with_notes(
            cid_links_rewrite(content.html, _inline_public_ids(message, files.stored)), notes
        ),
    )
    return ticket, message
