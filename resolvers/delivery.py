"""What page managers see of subscriptions and delivery: subscribers, deliveries per update
and per subscriber (sent, pending, failed and why), counts, and the monthly email quota."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Count

from models import Delivery, Subscriber
from models.base import utcnow
from models.enums import DeliveryStatus, Role, SubscriberState
from notifications import quota
from resolvers.auth import Actor
from resolvers.errors import invalid
from resolvers.page import managed_page
from settings import get_settings

MAX_FIRST = 500


@dataclass(frozen=True)
class Quota:
    limit: int | None  # None: unlimited
    used: int
    waiting: int


def _window(first: int, offset: int) -> None:
    if not 0 < first <= MAX_FIRST:
        raise invalid(f"first must be between 1 and {MAX_FIRST}", "first")
    if offset < 0:
        raise invalid("offset must not be negative", "offset")


async def subscribers(*, actor: Actor, page_id: str, state: SubscriberState | None = None,
                      first: int = 100, offset: int = 0) -> tuple[int, list[Subscriber]]:
    """A page's subscribers, newest first, with the total (page management)."""
    await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    _window(first, offset)
    query = Subscriber.filter(page_id=page_id)
    if state is not None:
        query = query.filter(state=state)
    total = await query.count()
    rows = await query.order_by("-created_at", "id").offset(offset).limit(first)
    return total, list(rows)


async def deliveries(*, actor: Actor, page_id: str, update_id: str | None = None,
                     subscriber_id: str | None = None, status: DeliveryStatus | None = None,
                     first: int = 100, offset: int = 0) -> tuple[int, list[Delivery]]:
    """A page's deliveries (per update, per subscriber, by status), newest first."""
    await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    _window(first, offset)
    query = Delivery.filter(page_id=page_id)
    if update_id is not None:
        query = query.filter(update_id=update_id)
    if subscriber_id is not None:
        query = query.filter(subscriber_id=subscriber_id)
    if status is not None:
        query = query.filter(status=status)
    total = await query.count()
    rows = await query.order_by("-created_at", "id").offset(offset).limit(first)
    return total, list(rows)


async def delivery_counts(*, actor: Actor, page_id: str, update_id: str | None = None
                          ) -> dict[DeliveryStatus, int]:
    """How many deliveries are in each status (for one update, or the whole page)."""
    await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    query = Delivery.filter(page_id=page_id)
    if update_id is not None:
        query = query.filter(update_id=update_id)
    rows = await query.annotate(n=Count("id")).group_by("status").values_list("status", "n")
    counts = {s: 0 for s in DeliveryStatus}
    for status, n in rows:
        counts[DeliveryStatus(status)] = int(n)
    return counts


async def email_quota(*, actor: Actor, page_id: str) -> Quota:
    """This UTC month's email quota of the page: limit, mails sent, mails waiting for it."""
    await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    now = utcnow()
    limit = get_settings().email_monthly_quota
    waiting = await Delivery.filter(page_id=page_id,
                                    status=DeliveryStatus.WAITING_QUOTA).count()
    return Quota(limit=limit or None, used=await quota.emails_sent_this_month(page_id, now),
                 waiting=waiting)
