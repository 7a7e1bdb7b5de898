"""Daily bars (PRODUCT.md §4, §10): the `days` local dates ending today in the page's zone,
each with its worst status, its availability and the events that touched it.

The days before today change only when the spans of their components do (a new, changed or
retrospective event) or when the date moves on, not whenever the page's sequence moves. So an
item's past bars (one component, or a group's) are kept, keyed by the item's components and
checked against exactly what they were measured from: the days' edges, each component's
`since` and its timeline (by identity, or by the spans it was built from). Only today's bar is
measured per request. What callers derive from the past bars (schema objects, completed
GraphQL rows) is kept with them in `PastDays.attached`, as long as they are."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models import Component, StatusPage
from models.enums import ComponentStatus
from resolvers.availability import Figures, Ledger, Reader, measure_windows, to_us, window
from resolvers.availability_timeline import Timeline, on_clear
from resolvers.errors import invalid

MAX_DAYS = 366
QUARTER_DAYS = 90  # the local days whose kept bars make up the default 90-day window
SUMMED = "summed"  # PastDays.attached: a component's past days as one window
# Past bars kept over every item, least recently used first out: 2½ pages of 200 components
# in 20 groups. With what the schema attaches for one query's selection, ~0.9 kB a bar
# (measured with tracemalloc on bench/availability.py's page), ~1.3 kB with a second
# selection remembered (schema.plain_rows.MAX_SHAPES): 45–65 MB at most.
MAX_PAST_BARS = 50_000


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


@dataclass(slots=True, eq=False)
class PastDays:
    """An item's bars before today, and what they were measured from."""

    edges: tuple[int, ...]  # the days' starts, then today's start
    sinces: tuple[int, ...]  # per component
    timelines: tuple[Timeline, ...]  # per component
    bars: list[Bar]
    attached: dict[Any, Any] = field(default_factory=dict)  # derived by callers

    def matches(self, edges: tuple[int, ...], sinces: tuple[int, ...],
                timelines: tuple[Timeline, ...]) -> bool:
        if self.edges != edges or self.sinces != sinces:
            return False
        for kept, now in zip(self.timelines, timelines, strict=True):
            if kept is not now and kept.source != now.source:
                return False
        return True


_past: OrderedDict[tuple[Any, ...], PastDays] = OrderedDict()
_past_bars = 0


def clear_past() -> None:
    global _past_bars
    _past.clear()
    _past_bars = 0


on_clear.append(clear_past)


def past_days(ledger: Ledger, components: Sequence[Component], dates: Sequence[date],
              edges: Sequence[int]) -> PastDays:
    """The bars of every day but the last, kept while what they depend on is unchanged."""
    global _past_bars
    key = (len(dates), *(c.id for c in components))
    past_edges = tuple(edges[:-1])
    sinces = tuple(to_us(c.since) for c in components)
    timelines = tuple(ledger.timeline(c.id) for c in components)
    kept = _past.get(key)
    if kept is not None and kept.matches(past_edges, sinces, timelines):
        kept.timelines = timelines  # the same content: next time an identity check
        _past.move_to_end(key)
        return kept
    # Measured on a ledger of these components alone: an old page ledger is not kept alive.
    own = Ledger(ledger.covered_from, {c.id: t for c, t in zip(components, timelines,
                                                                strict=True)})
    found = PastDays(past_edges, sinces, timelines, [
        Bar(day, figures) for day, figures in
        zip(dates[:-1], measure_windows(own, components, past_edges), strict=True)])
    if kept is not None:
        _past_bars -= len(kept.bars)
    _past[key] = found
    _past.move_to_end(key)
    _past_bars += len(found.bars)
    while _past_bars > MAX_PAST_BARS and len(_past) > 1:
        _, dropped = _past.popitem(last=False)
        _past_bars -= len(dropped.bars)
    return found


def _days(reader: Reader, page: StatusPage, days: int) -> tuple[list[date], list[int]]:
    """The local dates, and their starts then now (the same for a whole request)."""
    key = ("local days", page.time_zone, days)
    if key not in reader.memo:
        spans = local_days(page.time_zone, reader.now, days)
        reader.memo[key] = ([d for d, _, _ in spans],
                            [to_us(s) for _, s, _ in spans] + [to_us(reader.now)])
    found: tuple[list[date], list[int]] = reader.memo[key]
    return found


def _add(into: Figures, piece: Figures) -> None:
    """Add the figures of a later window (or another component) to `into`; a window in which
    nothing counts adds nothing (`measure_windows` sums components the same way)."""
    if piece.total_us <= 0:
        return
    into.total_us += piece.total_us
    into.maintenance_us += piece.maintenance_us
    into.downtime_us += piece.downtime_us
    if piece.start_us < into.start_us:
        into.start_us = piece.start_us
    if piece.worst_rank > into.worst_rank:
        into.worst_rank = piece.worst_rank
    into.touched.update(piece.touched)


async def availability(*, reader: Reader, page: StatusPage, components: Sequence[Component],
                       start: datetime | None = None, end: datetime | None = None) -> Figures:
    """Figures of these components over [start, end) (defaults §10), as `Reader.availability`.

    The default window, the last 90 days, is the sum of three pieces per component: from its
    start to the first of the 90 local days, those days before today (kept, `past_days`), and
    today; sums of integers, so exactly what one sweep over the window finds."""
    if start is not None or end is not None:
        return await reader.availability(page=page, components=components, start=start,
                                         end=end)
    begin, stop = window(reader.now, None, None)
    dates, edges = _days(reader, page, QUARTER_DAYS)
    if begin >= edges[0]:  # a local day longer than 24 h among them: one sweep
        return await reader.availability(page=page, components=components)
    ledger = await reader.ledger(page, begin)
    total = Figures(stop, stop, window_start_us=begin, ledger=ledger, components=components)
    for component in components:
        key = ("quarter", page.id, component.id)
        one: Figures | None = reader.memo.get(key)
        if one is None:
            one = reader.memo[key] = Figures(stop, stop)
            past = past_days(ledger, (component,), dates, edges)
            summed: Figures | None = past.attached.get(SUMMED)
            if summed is None:
                summed = past.attached[SUMMED] = Figures(edges[-2], edges[-2])
                for bar in past.bars:
                    _add(summed, bar.figures)
            head, = measure_windows(ledger, (component,), (begin, edges[0]))
            today, = measure_windows(ledger, (component,), edges[-2:])
            for piece in (head, summed, today):
                _add(one, piece)
        _add(total, one)
    return total


async def bar_parts(*, reader: Reader, page: StatusPage, components: Sequence[Component],
                    days: int = 90) -> tuple[PastDays, Bar]:
    """The days before today (kept across requests) and today, over these components."""
    if not 1 <= days <= MAX_DAYS:
        raise invalid(f"days must be between 1 and {MAX_DAYS}", "days")
    dates, edges = _days(reader, page, days)
    ledger = await reader.ledger(page, edges[0])
    past = past_days(ledger, components, dates, edges)
    today = measure_windows(ledger, components, edges[-2:])[0]
    return past, Bar(dates[-1], today)


async def daily_bars(*, reader: Reader, page: StatusPage, components: Sequence[Component],
                     days: int = 90) -> list[Bar]:
    """One bar per local day of the page's zone, oldest first, over these components."""
    past, today = await bar_parts(reader=reader, page=page, components=components, days=days)
    return [*past.bars, today]
