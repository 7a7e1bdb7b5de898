"""Webhook subscribers, managed by the page's managers: create one (its secret shown once),
list them with their state and failures, re-enable or delete them; and the Statuspage-shaped
objects their messages carry (installed into notifications.webhook)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from models import Delivery, StatusPage, Subscriber
from models.base import utcnow
from models.enums import (
    ComponentStatus,
    DeliveryStatus,
    Role,
    SubscriberChannel,
    SubscriberState,
)
from notifications import outgoing, webhook
from resolvers import audit
from resolvers.auth import Actor, require_role
from resolvers.errors import invalid, not_found
from resolvers.statuspage import PageSnapshot, snapshot
from resolvers.statuspage_json import COMPONENT_STATUS, INDICATOR, INDICATOR_DESCRIPTION, Formatter
from resolvers.subscription_scope import scope, set_components, wake_worker
from settings import get_settings

MAX_PER_PAGE = 50
OUTSTANDING = (DeliveryStatus.PENDING, DeliveryStatus.WAITING_QUOTA)


def shown_url(url: str | None) -> str:
    """The endpoint as managers see it: scheme, host and path (a query may hold a token)."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else ""


async def _page_for(actor: Actor, page_slug: str) -> StatusPage:
    page = await StatusPage.filter(slug=page_slug).first()
    require_role(actor, Role.PAGE_MANAGEMENT, page.id if page else None)
    if page is None:
        raise not_found("Page", "pageSlug")
    return page


async def _hook_for(actor: Actor, subscriber_id: str) -> Subscriber:
    hook = await Subscriber.filter(id=subscriber_id, channel=SubscriberChannel.WEBHOOK).first()
    require_role(actor, Role.PAGE_MANAGEMENT, hook.page_id if hook else None)
    if hook is None:
        raise not_found("Webhook", "subscriberId")
    return hook


async def subscribe_webhook(*, actor: Actor, page_slug: str, url: str,
                            component_ids: list[str] | None = None,
                            event_id: str | None = None) -> tuple[Subscriber, str]:
    """A webhook subscriber (pending until its endpoint answers the challenge) and its
    signing secret, which is shown this once."""
    page = await _page_for(actor, page_slug)
    try:
        url = await outgoing.check_reachable(url)
    except outgoing.Refused as exc:
        raise invalid(str(exc), "url") from None
    ids, event = await scope(page, component_ids, event_id)
    if await Subscriber.filter(page_id=page.id, channel=SubscriberChannel.WEBHOOK).exclude(
            state=SubscriberState.UNSUBSCRIBED).count() >= MAX_PER_PAGE:
        raise invalid(f"A page can have at most {MAX_PER_PAGE} webhooks", "url")
    secret = webhook.new_secret()
    now = utcnow()
    async with in_transaction() as conn:
        hook = await Subscriber.create(
            page_id=page.id, channel=SubscriberChannel.WEBHOOK, webhook_url=url,
            webhook_secret=secret, state=SubscriberState.PENDING,
            event_id=event.id if event else None, created_at=now, updated_at=now,
            using_db=conn)
        await set_components(hook.id, ids, conn)
        await webhook.verification_delivery(hook, now).save(using_db=conn)
        await audit.record(actor, "webhook.create", target_type="subscriber", target_id=hook.id,
                           page_id=page.id, detail={"url": shown_url(url)}, conn=conn)
    wake_worker()
    return hook, secret


async def webhooks(*, actor: Actor, page_id: str) -> list[Subscriber]:
    """A page's webhook subscribers, oldest first, ended ones too (page management)."""
    require_role(actor, Role.PAGE_MANAGEMENT, page_id)
    return list(await Subscriber.filter(page_id=page_id, channel=SubscriberChannel.WEBHOOK)
                .order_by("created_at", "id"))


async def enable_webhook(*, actor: Actor, subscriber_id: str) -> Subscriber:
    """Start a disabled (or ended) webhook again: a new challenge, failures forgotten."""
    hook = await _hook_for(actor, subscriber_id)
    if hook.state in (SubscriberState.PENDING, SubscriberState.CONFIRMED):
        raise invalid("This webhook is enabled already", "subscriberId")
    now = utcnow()
    fields: dict[str, Any] = dict(state=SubscriberState.PENDING, failure_count=0,
                                  disabled_reason=None, disabled_at=None,
                                  unsubscribed_at=None, updated_at=now)
    async with in_transaction() as conn:
        await Subscriber.filter(id=hook.id).using_db(conn).update(**fields)
        await Delivery.filter(subscriber_id=hook.id, status__in=OUTSTANDING).using_db(
            conn).update(status=DeliveryStatus.CANCELLED, last_error="Webhook re-enabled")
        await webhook.verification_delivery(hook, now).save(using_db=conn)
        await audit.record(actor, "webhook.enable", target_type="subscriber",
                           target_id=hook.id, page_id=hook.page_id, conn=conn)
    wake_worker()
    return await Subscriber.get(id=hook.id)


async def delete_webhook(*, actor: Actor, subscriber_id: str) -> str:
    """Remove a webhook subscriber and its deliveries."""
    hook = await _hook_for(actor, subscriber_id)
    async with in_transaction() as conn:
        await Subscriber.filter(id=hook.id).using_db(conn).delete()
        await audit.record(actor, "webhook.delete", target_type="subscriber",
                           target_id=hook.id, page_id=hook.page_id,
                           detail={"url": shown_url(hook.webhook_url)}, conn=conn)
    return hook.id


async def last_failures(subscriber_ids: list[str]) -> dict[str, tuple[str, datetime]]:
    """Each webhook's most recent failed delivery: (reason, when)."""
    found: dict[str, tuple[str, datetime]] = {}
    for sid, error, created in await Delivery.filter(
            subscriber_id__in=subscriber_ids, status=DeliveryStatus.FAILED).order_by(
            "-created_at").values_list("subscriber_id", "last_error", "created_at"):
        found.setdefault(str(sid), (str(error or ""), created))
    return found


# ---- the message bodies -------------------------------------------------------------------


class PageShapes:
    """notifications.webhook.Shapes over one page's snapshot and the /api/v2 formatter."""

    def __init__(self, snap: PageSnapshot) -> None:
        self.snap = snap
        self.formatter = Formatter(snap, get_settings().base_url)
        self.events = {e.id: e for e in [*snap.incidents, *snap.maintenances]}

    def page(self) -> dict[str, Any]:
        indicator = INDICATOR[self.snap.page_status()]
        return {"id": self.snap.page.id, "status_indicator": indicator,
                "status_description": INDICATOR_DESCRIPTION[indicator]}

    def incident(self, event_id: str, update_id: str) -> dict[str, Any] | None:
        """The incident as of one update: that update and those before it (a message sent
        late, or again, still says what that update said)."""
        event = self.events.get(event_id)
        ids = [u.id for u in event.updates] if event is not None else []
        if event is None or update_id not in ids:
            return None
        cut = event.updates[:ids.index(update_id) + 1]
        last = cut[-1]
        as_of = dataclasses.replace(
            event, updates=cut, status=last.status, updated_at=last.created_at,
            ended_at=last.at if last.status.final else None)
        return self.formatter.event_object(as_of)

    def component(self, component_id: str) -> dict[str, Any] | None:
        return self.formatter.component_objects.get(component_id)

    def status(self, status: ComponentStatus) -> str:
        return COMPONENT_STATUS[status]

    def time(self, at: datetime) -> str | None:
        return self.formatter.time(at)


async def load_shapes(page_id: str) -> PageShapes | None:
    snap = await snapshot(page_id=page_id)
    return PageShapes(snap) if snap is not None else None


def install() -> None:
    """Let the delivery loop of this process build webhook bodies."""
    webhook.install(load_shapes)

