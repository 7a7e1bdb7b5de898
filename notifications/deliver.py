"""Claiming due deliveries (the oldest outstanding one per subscriber, so one subscriber's
messages go out in order), sending them and recording each result as soon as it is known."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from datetime import datetime, timedelta

import httpx
from tortoise.expressions import F

from models import Delivery, ImDestination, StatusPage, Subscriber
from models.base import utcnow
from models.enums import DeliveryKind, DeliveryStatus, SubscriberChannel
from notifications import email, im, lease, links, quota, webhook
from notifications.outcome import Outcome
from notifications.registry import provider_for
from notifications.render import Notice, confirmation_subject, load_notice, render_mail
from settings import get_settings

log = logging.getLogger("heliograph.notifications")

BATCH = 200
MAX_ATTEMPTS = 12  # with the backoff below: about a day of retrying
BACKOFF_BASE = 2.0
BACKOFF_CAP = 3600.0
SMTP_CONNECTIONS = 4
OUTSTANDING = (DeliveryStatus.PENDING, DeliveryStatus.WAITING_QUOTA)


def lease_seconds() -> float:
    """How long a claimed batch is held without renewal (DELIVERY_LEASE_SECONDS); the
    heartbeat renews it every third of that while the batch is being sent."""
    return float(get_settings().delivery_lease_seconds)


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; never sooner than the endpoint's Retry-After."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    delay = random.uniform(delay / 2, delay)
    return max(delay, retry_after or 0.0)


async def due(now: datetime, limit: int = BATCH) -> list[str]:
    """Ids of due deliveries that are the oldest outstanding one of their subscriber (mail
    waiting for the quota and not yet due is not in the way of later, quota-free mail)."""
    rows = await (Delivery.filter(lease.free(now), status__in=OUTSTANDING,
                                  next_attempt_at__lte=now)
                  .order_by("next_attempt_at", "created_at").limit(limit)
                  .values_list("id", "subscriber_id", "created_at"))
    if not rows:
        return []
    subscribers = list({r[1] for r in rows})
    # The status index keeps this to outstanding rows; `created_at` is publication order.
    heads: dict[str, tuple[datetime, str]] = {}
    for did, sid, created, status, at in await Delivery.filter(
            subscriber_id__in=subscribers, status__in=OUTSTANDING).values_list(
            "id", "subscriber_id", "created_at", "status", "next_attempt_at"):
        if status == DeliveryStatus.WAITING_QUOTA and at > now:
            continue
        key = (created, did)
        if sid not in heads or key < heads[sid]:
            heads[sid] = key
    return [did for did, sid, created in rows if heads.get(sid) == (created, did)]


class Batch:
    """One claimed batch: what it needs loaded, and how results are recorded."""

    def __init__(self, deliveries: list[Delivery], heartbeat: lease.Heartbeat) -> None:
        self.deliveries = deliveries
        self.heartbeat = heartbeat
        self.token = heartbeat.token
        self.subscribers: dict[str, Subscriber] = {}
        self.destinations: dict[str, ImDestination] = {}
        self.pages: dict[str, StatusPage] = {}
        self.notices: dict[str, Notice | None] = {}
        self.by_id = {d.id: d for d in deliveries}

    async def load(self) -> None:
        ids = list({d.subscriber_id for d in self.deliveries})
        self.subscribers = {s.id: s for s in await Subscriber.filter(id__in=ids)}
        dest_ids = [s.destination_id for s in self.subscribers.values() if s.destination_id]
        self.destinations = {d.id: d for d in await ImDestination.filter(id__in=dest_ids)}
        page_ids = list({d.page_id for d in self.deliveries})
        self.pages = {p.id: p for p in await StatusPage.filter(id__in=page_ids)}
        for update_id in {d.update_id for d in self.deliveries if d.update_id}:
            self.notices[update_id] = await load_notice(update_id)

    def holding(self) -> bool:
        """Still ours to send: checked before each message goes out."""
        return self.heartbeat.holding()

    async def _mine(self, delivery_id: str, changed: int) -> None:
        """After a conditional write changed nothing: if another worker holds the row now,
        this batch lost its lease and sends nothing more."""
        if changed or self.heartbeat.lost:
            return
        if await Delivery.filter(id=delivery_id, lease_owner__not_isnull=True).exclude(
                lease_owner=self.token).exists():
            log.warning("delivery %s was taken over by another worker; batch %s stops",
                        delivery_id, self.token)
            self.heartbeat.lost = True

    async def record(self, delivery_id: str, outcome: Outcome) -> None:
        """Write one result now (sent: right after the endpoint accepted it), only to a row
        this batch still holds."""
        delivery = self.by_id[delivery_id]
        now = utcnow()
        query = Delivery.filter(id=delivery_id, lease_owner=self.token)
        if outcome.kind == "sent":
            await self._mine(delivery_id, await query.update(
                status=DeliveryStatus.SENT, sent_at=now, last_error=None,
                attempts=F("attempts") + 1, payload=None, leased_until=None, lease_owner=None))
            return
        attempts = delivery.attempts + 1
        # Only while still owed: an unsubscribe meanwhile cancelled it for good.
        query = query.filter(status__in=OUTSTANDING)
        if outcome.kind == "failed" or attempts >= MAX_ATTEMPTS:
            reason = outcome.reason if outcome.kind == "failed" else (
                f"gave up after {attempts} attempts; last: {outcome.reason}")
            await self._mine(delivery_id, await query.update(
                status=DeliveryStatus.FAILED, last_error=reason, attempts=attempts,
                leased_until=None, lease_owner=None))
            return
        await self._mine(delivery_id, await query.update(
            status=DeliveryStatus.PENDING, attempts=attempts, last_error=outcome.reason,
            next_attempt_at=now + timedelta(seconds=backoff(attempts, outcome.retry_after)),
            leased_until=None, lease_owner=None))

    async def postpone(self, delivery_id: str, until: datetime, reason: str,
                       status: DeliveryStatus = DeliveryStatus.PENDING) -> None:
        """Not an attempt: wait (rate limit, quota, no mail server) and say why."""
        await Delivery.filter(id=delivery_id, lease_owner=self.token).update(
            status=status, next_attempt_at=until, last_error=reason, leased_until=None,
            lease_owner=None)

    async def cancel(self, delivery_id: str, reason: str) -> None:
        await Delivery.filter(id=delivery_id, lease_owner=self.token).update(
            status=DeliveryStatus.CANCELLED, last_error=reason, leased_until=None,
            lease_owner=None)

    # ---- email -------------------------------------------------------------------------

    def compose(self, delivery: Delivery, subscriber: Subscriber) -> email.Mail | None:
        settings = get_settings()
        page = self.pages[delivery.page_id]
        assert subscriber.email is not None
        if delivery.kind == DeliveryKind.NOTIFICATION:
            notice = self.notices.get(delivery.update_id or "")
            if notice is None:
                return None
            unsubscribe = links.unsubscribe_url(subscriber.id, page.slug)
            text, html = render_mail("notification", notice=notice,
                                     manage_url=links.manage_url(subscriber.id, page.slug),
                                     unsubscribe_url=unsubscribe)
            subject = notice.subject
        else:
            payload = delivery.payload or {}
            if "link" not in payload:
                return None
            name = "confirmation" if delivery.kind == DeliveryKind.CONFIRMATION else \
                "manage_link"
            text, html = render_mail(name, page.language, page_name=page.name,
                                     link=payload["link"], scope=payload.get("scope", ""),
                                     hours=payload.get("hours", 48))
            subject = confirmation_subject(page.name, delivery.kind == DeliveryKind.CONFIRMATION,
                                           page.language)
            unsubscribe = None
        data = email.compose(sender=settings.mail_from, to=subscriber.email, subject=subject,
                             text=text, html=html, message_id=delivery.message_id,
                             unsubscribe_url=unsubscribe)
        return email.Mail(delivery.id, subscriber.email, data)

    async def send_emails(self, deliveries: list[Delivery], now: datetime) -> None:
        config = get_settings().smtp
        if config is None:
            for d in deliveries:
                await self.postpone(d.id, now + timedelta(seconds=60),
                                    "No mail server is configured (SMTP_URL)")
            return
        by_page: dict[str, list[Delivery]] = defaultdict(list)
        for d in deliveries:
            by_page[d.page_id].append(d)
        mails: list[email.Mail] = []
        for page_id, rows in by_page.items():
            # Only notifications count against the quota (and wait for it).
            counted = [d for d in rows if d.kind == DeliveryKind.NOTIFICATION]
            room = await quota.email_room(page_id, now) if counted else None
            if room is not None and room < len(counted):
                until = min(quota.next_month(now), now + timedelta(hours=1))
                for d in counted[room:]:
                    await self.postpone(d.id, until, quota.quota_reason(now),
                                        DeliveryStatus.WAITING_QUOTA)
                over = {d.id for d in counted[room:]}
                rows = [d for d in rows if d.id not in over]
            for d in rows:
                mail = self.compose(d, self.subscribers[d.subscriber_id])
                if mail is None:
                    await self.cancel(d.id, "Nothing to send: the update or link is gone")
                else:
                    mails.append(mail)
        await email.send_all(config, get_settings().mail_from, mails, self.record,
                             SMTP_CONNECTIONS, self.holding)

    # ---- IM ----------------------------------------------------------------------------

    async def send_im(self, client: httpx.AsyncClient, destination: ImDestination,
                      deliveries: list[Delivery]) -> None:
        provider = provider_for(destination.provider)
        for d in deliveries:  # one destination: one at a time, in order
            if not self.holding():
                return
            now = utcnow()
            free_at = await quota.destination_free_at(destination.id,
                                                      provider.RATE_PER_MINUTE, now)
            if free_at is not None:
                await self.postpone(d.id, free_at, f"{destination.provider.value} allows "
                                    f"{provider.RATE_PER_MINUTE} messages a minute")
                continue
            notice = self.notices.get(d.update_id or "")
            if notice is None:
                await self.cancel(d.id, "Nothing to send: the update is gone")
                continue
            await self.record(d.id, await im.send(client, notice, destination))

    async def send(self, client: httpx.AsyncClient, now: datetime) -> None:
        await self.load()
        mails: list[Delivery] = []
        by_destination: dict[str, list[Delivery]] = defaultdict(list)
        hooks: list[tuple[Delivery, Subscriber]] = []
        for d in self.deliveries:
            subscriber = self.subscribers.get(d.subscriber_id)
            if subscriber is None:
                continue  # deleted: its deliveries went with it (cascade)
            if subscriber.channel == SubscriberChannel.WEBHOOK:
                hooks.append((d, subscriber))
            elif subscriber.channel == SubscriberChannel.EMAIL:
                mails.append(d)
            elif subscriber.destination_id in self.destinations:
                by_destination[subscriber.destination_id].append(d)
            else:
                await self.cancel(d.id, "The IM destination was removed")
        await asyncio.gather(
            self.send_emails(mails, now),
            *(self.send_im(client, self.destinations[k], v) for k, v in by_destination.items()),
            webhook.send_all(self, client, hooks, MAX_ATTEMPTS),
        )


async def deliver_due(client: httpx.AsyncClient, now: datetime | None = None,
                      limit: int = BATCH) -> int:
    """Claim one batch of due deliveries and send it; return how many were claimed."""
    now = now or utcnow()
    await quota.release_if_changed(now)
    token = lease.claim_token()
    seconds = lease_seconds()
    claimed = await lease.claim(Delivery, await due(now, limit), token, now, seconds)
    if not claimed:
        return 0
    claimed.sort(key=lambda d: (d.created_at, d.id))
    holder = lease.Heartbeat(Delivery, token, now, seconds)
    heartbeat = asyncio.create_task(holder.run())
    try:
        await Batch(claimed, holder).send(client, now)
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
    return len(claimed)
