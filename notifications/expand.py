"""Expanding a notification job into one delivery per matching subscriber, in batches and
idempotently (unique per update and subscriber: re-running inserts nothing twice)."""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlparse

from tortoise.expressions import Subquery

from models import (
    Delivery,
    Event,
    EventComponent,
    EventUpdate,
    NotificationJob,
    StatusPage,
    Subscriber,
    SubscriberComponent,
)
from models.base import new_id, utcnow
from models.enums import DeliveryKind, SubscriberChannel, SubscriberState, Visibility
from notifications import lease, webhook
from settings import get_settings

log = logging.getLogger("heliograph.notifications")

BATCH = 1000
JOB_LEASE_SECONDS = 120.0


def message_id(delivery_id: str) -> str:
    """Stable per delivery: every retry of it carries the same Message-ID."""
    host = urlparse(get_settings().base_url).hostname or "heliograph.invalid"
    return f"<{delivery_id}@{host}>"


def _channel(page: StatusPage) -> SubscriberChannel:
    # Email only on public pages, IM only on internal ones — also if a page changed visibility.
    return SubscriberChannel.EMAIL if page.visibility == Visibility.PUBLIC else SubscriberChannel.IM


async def matching_subscribers(page: StatusPage, event: Event) -> list[str]:
    """Confirmed subscribers whose scope matches: whole page, an affected component, or the
    event itself (ids, sorted)."""
    # Webhooks on public and internal pages alike.
    channels = [_channel(page), SubscriberChannel.WEBHOOK]
    base = Subscriber.filter(page_id=page.id, state=SubscriberState.CONFIRMED,
                             channel__in=channels)
    scoped = SubscriberComponent.filter(subscriber__page_id=page.id).values("subscriber_id")
    found: set[str] = set()
    last = ""
    while True:  # whole page: no event, no components (keyset pages over the ids)
        chunk = await (base.filter(event_id=None, id__gt=last)
                       .exclude(id__in=Subquery(scoped)).order_by("id").limit(BATCH)
                       .values_list("id", flat=True))
        found.update(str(i) for i in chunk)
        if len(chunk) < BATCH:
            break
        last = str(chunk[-1])
    affected = await EventComponent.filter(event_id=event.id).values_list(
        "component_id", flat=True)
    if affected:
        by_component = await SubscriberComponent.filter(
            component_id__in=list(affected), subscriber__page_id=page.id,
            subscriber__state=SubscriberState.CONFIRMED,
            subscriber__channel__in=channels,
        ).values_list("subscriber_id", flat=True)
        found.update(str(i) for i in by_component)
    found.update(str(i) for i in await base.filter(event_id=event.id).values_list(
        "id", flat=True))
    # A deactivated member's IM destinations hear nothing more of internal pages (their
    # sessions and tokens ended too); reactivating them resumes the subscriptions.
    found.difference_update(str(i) for i in await Subscriber.filter(
        page_id=page.id, channel=SubscriberChannel.IM, destination__user__is_active=False,
    ).values_list("id", flat=True))
    return sorted(found)


async def expand(job: NotificationJob, now: datetime | None = None) -> int:
    """Create the job's deliveries (those already there are kept); return how many were new."""
    now = now or utcnow()
    update = await EventUpdate.filter(id=job.update_id).first()
    event = await Event.filter(id=update.event_id).first() if update else None
    created = 0
    if update is not None and event is not None and update.notify:
        page = await StatusPage.get(id=job.page_id)
        ids = await matching_subscribers(page, event)
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            before = await Delivery.filter(update_id=update.id).count()
            rows = []
            for subscriber_id in chunk:
                delivery_id = new_id()
                # Owed since publication: one subscriber's messages go out in this order.
                rows.append(Delivery(
                    id=delivery_id, page_id=page.id, subscriber_id=subscriber_id,
                    update_id=update.id, kind=DeliveryKind.NOTIFICATION,
                    message_id=message_id(delivery_id), next_attempt_at=now,
                    created_at=update.created_at,
                ))
            await Delivery.bulk_create(rows, ignore_conflicts=True)
            created += await Delivery.filter(update_id=update.id).count() - before
            await lease.renew(NotificationJob, job.lease_owner or "", utcnow(),
                              JOB_LEASE_SECONDS)
        created += await webhook.expand_component_updates(update, page, now)
        if update.status.final:
            # An event subscription ends after that event's final update (it is still sent).
            await Subscriber.filter(event_id=event.id, state=SubscriberState.CONFIRMED).update(
                state=SubscriberState.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now)
    await NotificationJob.filter(id=job.id).update(expanded_at=utcnow(), leased_until=None,
                                                   lease_owner=None)
    return created


async def expand_pending(now: datetime | None = None, limit: int = 5) -> int:
    """Claim up to `limit` unexpanded jobs and expand them; return how many jobs were done."""
    now = now or utcnow()
    ids = await (NotificationJob.filter(lease.free(now), expanded_at=None)
                 .order_by("created_at").limit(limit).values_list("id", flat=True))
    jobs = await lease.claim(NotificationJob, [str(i) for i in ids], lease.claim_token(), now,
                             JOB_LEASE_SECONDS)
    for job in sorted(jobs, key=lambda j: j.created_at):
        count = await expand(job, now)
        log.info("notification job %s expanded: %d deliveries", job.id, count)
    return len(jobs)
