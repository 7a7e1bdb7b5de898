"""`/metrics` in the Prometheus text format: requests, live subscribers, outbox backlog and
failures. Request methods are labelled from a fixed set (anything else is "other"), the
database figures are counted at most once every FIGURES_SECONDS per process, and with
METRICS_TOKEN set the endpoint wants `Authorization: Bearer <token>`. With the database down it
still answers 200: `heliograph_database_up 0`, and the last figures this process read (none
if it never read any)."""

from __future__ import annotations

import hmac
import logging
import time
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models import Delivery, NotificationJob
from models.enums import DeliveryStatus
from realtime import hub
from resolvers import automation
from web.appstate import app_state

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
FIGURES_SECONDS = 15.0  # the database counts are this old at most (a scrape is cheap)


def method_label(method: str) -> str:
    """A bounded label: a client can send any string as the method."""
    return method if method in METHODS else "other"


Figures = tuple[int, int, int, int, int]
log = logging.getLogger("heliograph.web")


def clear_cache(app: Any) -> None:
    """Forget the figures counted for `app` (the next scrape counts again)."""
    app_state(app).metrics_figures = None


async def _database_figures(app: Any) -> Figures:
    """(backlog, failed, jobs pending, alerts waiting, alerts failed), cached per app."""
    shared = app_state(app)
    cached = shared.metrics_figures
    if cached is not None and time.monotonic() - cached[0] < FIGURES_SECONDS:
        return cached[1]
    pending = await Delivery.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.WAITING_QUOTA]
    ).count()
    failed = await Delivery.filter(status=DeliveryStatus.FAILED).count()
    jobs = await NotificationJob.filter(expanded_at__isnull=True).count()
    alerts_waiting, alerts_failed = await automation.inbox_figures()
    figures = (pending, failed, jobs, alerts_waiting, alerts_failed)
    shared.metrics_figures = (time.monotonic(), figures)
    return figures


def _authorized(request: Request) -> bool:
    token: str | None = getattr(request.app.state.settings, "metrics_token", None)
    if not token:
        return True
    given = request.headers.get("authorization", "")
    scheme, _, credentials = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(),
                                                              token.encode())


class RequestCounter:
    """Counts HTTP requests by method and status into `requests` (the app's
    `AppState.requests`; pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp, requests: Counter[tuple[str, int]]) -> None:
        self.app = app
        self.requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.requests[(method_label(scope["method"]), status)] += 1


async def metrics(request: Request) -> PlainTextResponse:
    if not _authorized(request):
        return PlainTextResponse("metrics need Authorization: Bearer <METRICS_TOKEN>\n",
                                 status_code=401, headers={"www-authenticate": "Bearer"})
    lines = [
        "# HELP heliograph_http_requests_total HTTP requests served by this process.",
        "# TYPE heliograph_http_requests_total counter",
    ]
    for (method, status), count in sorted(app_state(request.app).requests.items()):
        lines.append(
            f'heliograph_http_requests_total{{method="{method}",status="{status}"}} {count}'
        )
    live = app_state(request.app).live_groups.open_subscriptions(hub.subscriber_count)
    lines += [
        "# HELP heliograph_live_subscribers Open live subscriptions in this process.",
        "# TYPE heliograph_live_subscribers gauge",
        f"heliograph_live_subscribers {int(live)}",
    ]
    # The database down: what this process knows without it, and the last figures it read.
    up = 1
    try:
        figures: Figures | None = await _database_figures(request.app)
    except Exception:
        log.warning("/metrics: the database figures cannot be read", exc_info=True)
        up, cached = 0, app_state(request.app).metrics_figures
        figures = cached[1] if cached is not None else None
    lines += [
        "# HELP heliograph_database_up Whether the database figures below were read at their "
        "last refresh (else they are the last ones read).",
        "# TYPE heliograph_database_up gauge",
        f"heliograph_database_up {up}",
    ]
    if figures is not None:
        lines += _figure_lines(figures)
    return PlainTextResponse("\n".join(lines) + "\n",
                             media_type="text/plain; version=0.0.4; charset=utf-8")


def _figure_lines(figures: Figures) -> list[str]:
    pending, failed, jobs, alerts_waiting, alerts_failed = figures
    return [
        "# HELP heliograph_outbox_backlog Deliveries waiting to be sent (all processes).",
        "# TYPE heliograph_outbox_backlog gauge",
        f"heliograph_outbox_backlog {pending}",
        "# HELP heliograph_outbox_jobs_pending Notification jobs not yet expanded.",
        "# TYPE heliograph_outbox_jobs_pending gauge",
        f"heliograph_outbox_jobs_pending {jobs}",
        "# HELP heliograph_outbox_failed Deliveries that failed permanently.",
        "# TYPE heliograph_outbox_failed gauge",
        f"heliograph_outbox_failed {failed}",
        "# HELP heliograph_alert_inbox_backlog Alert payloads accepted, not yet applied.",
        "# TYPE heliograph_alert_inbox_backlog gauge",
        f"heliograph_alert_inbox_backlog {alerts_waiting}",
        "# HELP heliograph_alert_inbox_failed Alert payloads set aside after failing.",
        "# TYPE heliograph_alert_inbox_failed gauge",
        f"heliograph_alert_inbox_failed {alerts_failed}",
    ]
