"""Webhook subscribers: a challenge before anything else, then Statuspage-shaped messages
(`incident` and `component_update`) signed per Standard Webhooks, sent through the outbox, and
the endpoint disabled after a run of failures (docs/notifications.md, "Webhooks")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models import Delivery, EventComponent, EventUpdate, ImpactSpan, StatusPage, Subscriber
from models.base import new_id, utcnow
from models.enums import (
    ComponentStatus,
    DeliveryKind,
    DeliveryStatus,
    SubscriberChannel,
    SubscriberState,
)
from notifications import links, outgoing
from notifications.outcome import SENT, Outcome, failed, retry, retry_after_seconds

FAILURE_LIMIT = 5  # deliveries in a row that failed for good: the endpoint is disabled
VERIFY_ATTEMPTS = 3  # a challenge that cannot be delivered after this disables it too
DOCUMENTATION = "https://www.standardwebhooks.com/"
OUTSTANDING = (DeliveryStatus.PENDING, DeliveryStatus.WAITING_QUOTA)


# ---- signing (Standard Webhooks) ------------------------------------------------------------


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: `whsec_` + base64 of 24 bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the decoded secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def message_id(delivery: Delivery) -> str:
    """`webhook-id`: one per delivery, the same on every retry, so receivers drop repeats."""
    return f"msg_{delivery.id}"


def signed_headers(secret: str, msg_id: str, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())  # per attempt
    return {"content-type": "application/json", "user-agent": "Heliograph-Webhooks",
            "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body)}


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


# ---- the bodies: built by the Statuspage formatter, installed from above --------------------


class Shapes(Protocol):
    """One page's objects in Statuspage's shapes (resolvers/webhook.py builds them with the
    formatter behind /api/v2; notifications may not import upwards, so it is installed)."""

    def page(self) -> dict[str, Any]: ...
    def incident(self, event_id: str, update_id: str) -> dict[str, Any] | None: ...
    def component(self, component_id: str) -> dict[str, Any] | None: ...
    def status(self, status: ComponentStatus) -> str: ...
    def time(self, at: datetime) -> str | None: ...


ShapesLoader = Callable[[str], Awaitable[Shapes | None]]
_loader: ShapesLoader | None = None


def install(loader: ShapesLoader) -> None:
    """Called once by whoever runs the delivery loop (resolvers.worker, tests)."""
    global _loader
    _loader = loader


def body_of(delivery: Delivery, subscriber: Subscriber, shapes: Shapes, event_id: str | None,
            page_slug: str | None = None) -> bytes | None:
    """The message of one delivery, or None when what it was about is gone (links on the page's
    domain when it has one: `page_slug`)."""
    meta = {"unsubscribe": links.unsubscribe_url(subscriber.id, page_slug),
            "documentation": DOCUMENTATION}
    payload = delivery.payload or {}
    if delivery.kind == DeliveryKind.VERIFICATION:
        return encode({"type": "webhook.verification", "challenge": payload.get("challenge"),
                       "page": shapes.page()})
    if delivery.kind == DeliveryKind.COMPONENT_UPDATE:
        component = shapes.component(str(payload.get("component_id")))
        if component is None:
            return None
        at = datetime.fromisoformat(str(payload["at"]))
        return encode({"meta": meta, "page": shapes.page(), "component_update": {
            "id": payload["id"], "created_at": shapes.time(at),
            "old_status": shapes.status(ComponentStatus(payload["old_status"])),
            "new_status": shapes.status(ComponentStatus(payload["new_status"])),
            "component_id": payload["component_id"]}, "component": component})
    incident = shapes.incident(event_id, delivery.update_id or "") if event_id else None
    if incident is None:
        return None
    return encode({"meta": meta, "page": shapes.page(), "incident": incident})


# ---- component_update deliveries (expansion) ---------------------------------------------------


def _status_at(spans: list[tuple[str, str, datetime, datetime | None]], at: datetime
               ) -> dict[str, ComponentStatus]:
    found: dict[str, ComponentStatus] = {}
    for cid, status, start, end in spans:
        if start <= at and (end is None or end > at):
            value = ComponentStatus(status)
            if cid not in found or value.rank > found[cid].rank:
                found[cid] = value
    return found


async def component_changes(update: EventUpdate) -> list[tuple[str, ComponentStatus,
                                                                ComponentStatus]]:
    """The components whose status (all events together) this update changed: (id, old,
    new), from the ledger just before and at the update's time."""
    ids = list(await EventComponent.filter(event_id=update.event_id).values_list(
        "component_id", flat=True))
    if not ids:
        return []
    before = update.at - timedelta(microseconds=1)
    spans = list(await ImpactSpan.filter(
        Q(end=None) | Q(end__gt=before), component_id__in=ids, start__lte=update.at,
    ).values_list("component_id", "status", "start", "end"))
    old, new = _status_at(spans, before), _status_at(spans, update.at)
    ok = ComponentStatus.OPERATIONAL
    return [(str(cid), old.get(cid, ok), new.get(cid, ok)) for cid in ids
            if old.get(cid, ok) != new.get(cid, ok)]


async def expand_component_updates(update: EventUpdate, page: StatusPage, now: datetime
                                   ) -> int:
    """One `component_update` delivery per changed component and active webhook whose scope
    is the whole page or that component; idempotent (a key per update, component and
    subscriber in `message_id`). Returns how many were new."""
    changes = await component_changes(update)
    if not changes:
        return 0
    hooks = await Subscriber.filter(page_id=page.id, channel=SubscriberChannel.WEBHOOK,
                                    state=SubscriberState.CONFIRMED, event_id=None
                                    ).prefetch_related("components")
    rows: list[Delivery] = []
    for cid, old, new in changes:
        for hook in hooks:
            scope = {c.component_id for c in hook.components}
            if scope and cid not in scope:
                continue
            delivery_id = new_id()
            rows.append(Delivery(
                id=delivery_id, page_id=page.id, subscriber_id=hook.id, update_id=None,
                kind=DeliveryKind.COMPONENT_UPDATE,
                message_id=f"component:{update.id}:{cid}:{hook.id}", next_attempt_at=now,
                # Just after the update's incident message, before the next update's.
                created_at=update.created_at + timedelta(microseconds=1), payload={
                    "id": delivery_id, "update_id": update.id, "component_id": cid,
                    "old_status": old.value, "new_status": new.value,
                    "at": update.at.isoformat()}))
    done = set(await Delivery.filter(message_id__in=[r.message_id for r in rows])
               .values_list("message_id", flat=True))
    rows = [r for r in rows if r.message_id not in done]
    if rows:
        await Delivery.bulk_create(rows)
    return len(rows)


# ---- sending ----------------------------------------------------------------------------


class Recorder(Protocol):
    pages: dict[str, StatusPage]  # the batch's pages, by id

    async def record(self, delivery_id: str, outcome: Outcome) -> None: ...
    async def cancel(self, delivery_id: str, reason: str) -> None: ...
    def holding(self) -> bool: ...


def judge(response: httpx.Response) -> Outcome:
    """2xx is delivered; 3xx is not followed; 408/429/5xx retry; other 4xx stop."""
    status = response.status_code
    if 200 <= status < 300:
        return SENT
    if 300 <= status < 400:
        return failed(f"HTTP {status}: redirects are not followed "
                      f"(to {response.headers.get('location', '?')[:200]})")
    if status == 429:
        return retry("HTTP 429 (rate limited)",
                     retry_after_seconds(response.headers.get("retry-after")))
    if status >= 500 or status == 408:
        return retry(f"HTTP {status}: {response.text[:200]}")
    return failed(f"HTTP {status}: {response.text[:200]}")


def _echoes(response: httpx.Response, challenge: str) -> bool:
    if response.text.strip() == challenge:
        return True
    try:
        answer = response.json()
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("challenge") == challenge


async def post(client: httpx.AsyncClient, subscriber: Subscriber, delivery: Delivery,
               body: bytes) -> tuple[Outcome, httpx.Response | None]:
    assert subscriber.webhook_url and subscriber.webhook_secret
    headers = signed_headers(subscriber.webhook_secret, message_id(delivery), body, utcnow())
    try:
        response = await outgoing.post(client, subscriber.webhook_url, body, headers)
    except outgoing.Refused as exc:
        return failed(f"refused: {exc}"), None
    except httpx.TimeoutException as exc:
        return retry(f"timed out: {type(exc).__name__}"), None
    except httpx.HTTPError as exc:
        return retry(f"could not reach the endpoint: {type(exc).__name__}: {exc}"), None
    return judge(response), response


async def disable(subscriber_id: str, reason: str) -> None:
    """Stop sending to a webhook, say why, and cancel what it still had waiting."""
    now = utcnow()
    async with in_transaction() as conn:
        await Subscriber.filter(id=subscriber_id).using_db(conn).update(
            state=SubscriberState.DISABLED, disabled_reason=reason[:1000], disabled_at=now,
            updated_at=now)
        await Delivery.filter(subscriber_id=subscriber_id, status__in=OUTSTANDING
                              ).using_db(conn).update(
            status=DeliveryStatus.CANCELLED, last_error="The webhook was disabled",
            leased_until=None, lease_owner=None)


async def _verify(batch: Recorder, client: httpx.AsyncClient, d: Delivery, hook: Subscriber,
                  body: bytes) -> None:
    challenge = str((d.payload or {}).get("challenge", ""))
    outcome, response = await post(client, hook, d, body)
    if outcome.kind == "sent" and response is not None and not _echoes(response, challenge):
        outcome = failed(f"HTTP {response.status_code} without the challenge in the answer")
    if outcome.kind == "retry" and d.attempts + 1 >= VERIFY_ATTEMPTS:
        outcome = failed(f"gave up after {d.attempts + 1} attempts; last: {outcome.reason}")
    await batch.record(d.id, outcome)
    if outcome.kind == "sent":
        now = utcnow()
        await Subscriber.filter(id=hook.id, state=SubscriberState.PENDING).update(
            state=SubscriberState.CONFIRMED, confirmed_at=now, failure_count=0, updated_at=now)
    elif outcome.kind == "failed":
        await disable(hook.id, f"Verification failed: {outcome.reason}")


async def _notify(batch: Recorder, client: httpx.AsyncClient, d: Delivery, hook: Subscriber,
                  body: bytes, max_attempts: int) -> None:
    outcome, _ = await post(client, hook, d, body)
    await batch.record(d.id, outcome)
    if outcome.kind == "sent":
        if hook.failure_count:
            await Subscriber.filter(id=hook.id).update(failure_count=0)
        return
    exhausted = outcome.kind == "retry" and d.attempts + 1 >= max_attempts
    if outcome.kind == "retry" and not exhausted:
        return
    await Subscriber.filter(id=hook.id).update(failure_count=F("failure_count") + 1)
    count = hook.failure_count + 1
    if exhausted:
        await disable(hook.id, f"A delivery failed {d.attempts + 1} times over about a day; "
                               f"last: {outcome.reason}")
    elif count >= FAILURE_LIMIT:
        await disable(hook.id, f"{count} deliveries in a row failed; last: {outcome.reason}")


async def send_all(batch: Recorder, client: httpx.AsyncClient,
                   work: list[tuple[Delivery, Subscriber]], max_attempts: int) -> None:
    """Send a batch's webhook deliveries (at most one per subscriber), one page's shapes
    loaded once."""
    shapes: dict[str, Shapes | None] = {}
    events = dict(await EventUpdate.filter(
        id__in=[d.update_id for d, _ in work if d.update_id]).values_list("id", "event_id"))
    for d, hook in work:
        if not batch.holding():
            return  # the batch's lease is gone: the rest is another worker's to send
        verification = d.kind == DeliveryKind.VERIFICATION
        wanted = SubscriberState.PENDING if verification else SubscriberState.CONFIRMED
        if hook.state != wanted:
            await batch.cancel(d.id, "The webhook is not verified or was disabled"
                               if not verification else "No longer waiting for verification")
            continue
        if _loader is None:
            await batch.record(d.id, retry("webhook bodies are not available in this "
                                           "process (notifications.webhook.install)"))
            continue
        if d.page_id not in shapes:
            shapes[d.page_id] = await _loader(d.page_id)
        page_shapes = shapes[d.page_id]
        event_id = events.get(d.update_id) if d.update_id else None
        page = batch.pages.get(d.page_id)
        body = (body_of(d, hook, page_shapes, str(event_id) if event_id else None,
                        page.slug if page is not None else None)
                if page_shapes is not None else None)
        if body is None:
            await batch.cancel(d.id, "Nothing to send: the update or component is gone")
        elif verification:
            await _verify(batch, client, d, hook, body)
        else:
            await _notify(batch, client, d, hook, body, max_attempts)


def verification_delivery(subscriber: Subscriber, now: datetime) -> Delivery:
    """The challenge a new (or re-enabled) webhook must answer before anything else."""
    delivery_id = new_id()
    return Delivery(id=delivery_id, page_id=subscriber.page_id, subscriber_id=subscriber.id,
                    kind=DeliveryKind.VERIFICATION, message_id=f"verification:{delivery_id}",
                    payload={"challenge": secrets.token_urlsafe(24)}, next_attempt_at=now,
                    created_at=now)
