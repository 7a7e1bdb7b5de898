"""`/metrics` in the Prometheus text format: requests, live subscribers, outbox backlog and
failures."""

from __future__ import annotations

from collections import Counter

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models import Delivery, NotificationJob
from models.enums import DeliveryStatus
from realtime import hub
from resolvers import automation
from web.live_ws import open_subscriptions

_requests: Counter[tuple[str, int]] = Counter()


class RequestCounter:
    """Counts HTTP requests by method and status (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
            _requests[(scope["method"], status)] += 1


async def metrics(request: Request) -> PlainTextResponse:
    lines = [
        "# HELP heliograph_http_requests_total HTTP requests served by this process.",
        "# TYPE heliograph_http_requests_total counter",
    ]
    for (method, status), count in sorted(_requests.items()):
        lines.append(
            f'heliograph_http_requests_total{{method="{method}",status="{status}"}} {count}'
        )
    live = open_subscriptions(hub.subscriber_count)
    pending = await Delivery.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.WAITING_QUOTA]
    ).count()
    failed = await Delivery.filter(status=DeliveryStatus.FAILED).count()
    jobs = await NotificationJob.filter(expanded_at__isnull=True).count()
    alerts_waiting, alerts_failed = await automation.inbox_figures()
    lines += [
        "# HELP heliograph_live_subscribers Open live subscriptions in this process.",
        "# TYPE heliograph_live_subscribers gauge",
        f"heliograph_live_subscribers {int(live)}",
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
    return PlainTextResponse("\n".join(lines) + "\n",
                             media_type="text/plain; version=0.0.4; charset=utf-8")
