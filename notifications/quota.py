"""Monthly email quotas per page (UTC calendar months) and per-destination IM rate limits.
Only notifications count against the quota and wait for it: a confirmation or manage-link mail
answers someone's request and always goes out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models import Delivery
from models.enums import DeliveryKind, DeliveryStatus, SubscriberChannel
from settings import get_settings


def month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def next_month(now: datetime) -> datetime:
    start = month_start(now)
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


async def emails_sent_this_month(page_id: str, now: datetime) -> int:
    return await Delivery.filter(
        page_id=page_id, status=DeliveryStatus.SENT, sent_at__gte=month_start(now),
        subscriber__channel=SubscriberChannel.EMAIL, kind=DeliveryKind.NOTIFICATION,
    ).count()


async def email_room(page_id: str, now: datetime) -> int | None:
    """How many more mails the page may send this month (None: unlimited)."""
    limit = get_settings().email_monthly_quota
    if limit == 0:
        return None
    return max(0, limit - await emails_sent_this_month(page_id, now))


_applied_limit: int | None = None  # the quota this process last released waiting mail under


async def release_if_changed(now: datetime) -> int:
    """When the quota differs from the one this process last saw (a raised EMAIL_MONTHLY_QUOTA
    takes effect at a restart, which is this process's first round), waiting mail is due at
    once instead of at its next hourly check; mail still over the quota waits again."""
    global _applied_limit
    limit = get_settings().email_monthly_quota
    if limit == _applied_limit:
        return 0
    _applied_limit = limit
    return await Delivery.filter(status=DeliveryStatus.WAITING_QUOTA,
                                 next_attempt_at__gt=now).update(next_attempt_at=now)


def quota_reason(now: datetime) -> str:
    limit = get_settings().email_monthly_quota
    return (f"The page's monthly email quota ({limit} mails) is used up; "
            f"waiting until {next_month(now):%Y-%m-%d} (UTC)")


async def destination_free_at(destination_id: str, per_minute: int, now: datetime
                              ) -> datetime | None:
    """When the destination may take another message (None: now)."""
    window = now - timedelta(seconds=60)
    recent = await (Delivery.filter(subscriber__destination_id=destination_id,
                                    sent_at__gte=window)
                    .order_by("-sent_at").limit(per_minute).values_list("sent_at", flat=True))
    if len(recent) < per_minute:
        return None
    oldest = min(recent)
    return oldest + timedelta(seconds=60)
