"""Views of the application as a whole, outside any one part of the product."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def health(request: HttpRequest) -> HttpResponse:
    """`GET /healthz/`: "ok" while this app server process answers requests.

    For a load balancer's or an orchestrator's liveness check. It reads no database, no cache
    and no session, so a slow database never takes every app server out of rotation at once;
    and it is the cheapest page Django can serve through the whole middleware stack: the
    benchmarks' floor (bench/pages.py), each page's cost is measured against it.
    """
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
