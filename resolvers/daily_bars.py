"""Daily bars (PRODUCT.md §4, §10): the `days` local dates ending today in the page's zone,
each with its worst status, its availability and the events that touched it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models import Component, StatusPage
from models.enums import ComponentStatus
from resolvers.availability import Figures, Reader, measure_windows, to_us
from resolvers.errors import invalid

MAX_DAYS = 366


class Bar(NamedTuple):
    """One local day: status null (and ratio null) when no component counts yet (`since`)."""

    date: date
    figures: Figures

    @property
    def status(self) -> ComponentStatus | None:
        return self.figures.worst

    @property
    def event_ids(self) -> list[str]:
        return self.figures.event_ids


def zone(name: str) -> ZoneInfo:
    """The page's zone; UTC if the name is unknown to this system."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local date (midnight, or the end of a gap that skips it)."""
    # fold=0 maps a skipped midnight to the transition itself, the day's first instant.
    candidate = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    if (candidate - timedelta(seconds=1)).astimezone(tz).date() < day:
        return candidate
    # A gap that straddles midnight (e.g. 23:30 → 00:30): search back for the transition.
    high = int(candidate.timestamp())
    low = high - 6 * 3600  # on an earlier date: no gap is that long
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).date() < day:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def local_days(time_zone: str, now: datetime, days: int) -> list[tuple[date, datetime, datetime]]:
    """(date, start, end) of the `days` local dates ending today; today ends at now."""
    tz = zone(time_zone)
    today = now.astimezone(tz).date()
    dates = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    starts = [day_start(d, tz) for d in dates]
    ends = [*starts[1:], now]
    return list(zip(dates, starts, ends, strict=True))


async def daily_bars(*, reader: Reader, page: StatusPage, components: Sequence[Component],
                     days: int = 90) -> list[Bar]:
    """One bar per local day of the page's zone, oldest first, over these components."""
    if not 1 <= days <= MAX_DAYS:
        raise invalid(f"days must be between 1 and {MAX_DAYS}", "days")
    key = ("local days", page.time_zone, days)
    if key not in reader.memo:  # the same days for every component and group of the request
        spans = local_days(page.time_zone, reader.now, days)
        reader.memo[key] = ([d for d, _, _ in spans],
                            [to_us(s) for _, s, _ in spans] + [to_us(reader.now)])
    dates, edges = reader.memo[key]
    ledger = await reader.ledger(page, edges[0])
    return [Bar(day, figures) for day, figures in
            zip(dates, measure_windows(ledger, components, edges), strict=True)]
