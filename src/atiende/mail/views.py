"""The demo mailbox: in demo mode, every message the outbox holds, to follow its links."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from atiende.mail.models import OutboxMessage


def _demo_only() -> None:
    if not settings.DEMO:
        raise Http404


def demo_outbox(request: HttpRequest) -> HttpResponse:
    _demo_only()
    rows = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.MAIL).only(
        "id", "to", "subject", "status", "created_at"
    )
    page = Paginator(rows.order_by("-id"), 50).get_page(request.GET.get("pagina"))
    return render(request, "mail/demo/outbox.html", {"page": page})


def demo_outbox_message(request: HttpRequest, pk: int) -> HttpResponse:
    _demo_only()
    message = get_object_or_404(OutboxMessage, pk=pk, kind=OutboxMessage.Kind.MAIL)
    return render(request, "mail/demo/message.html", {"message": message})
