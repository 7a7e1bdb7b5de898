"""Availability from the ledger (PRODUCT.md §4, §10): per-component timelines built from the
page's ImpactSpan rows, figures over a window, and the intervals they were computed from.

Times are integer microseconds since the epoch inside this module, so sums are exact. What
depends only on the ledger (the timelines) is cached in-process per (page, sequence); what
depends on now (windows, today's bar) is computed per request by a `Reader`."""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q

from models import Component, ImpactSpan, StatusPage
from models.base import utcnow
from models.enums import ComponentStatus
from resolvers.errors import invalid

US = 1_000_000
QUARTER = timedelta(days=90)
OPEN = 1 << 62  # the end of a span that still holds
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Load a little more than the default window so that the default quarter and 90 daily bars
# (whose first local day may begin up to a day earlier) share one load per sequence number.
PRELOAD = timedelta(days=92)
CACHE_SIZE = 128

OPERATIONAL = ComponentStatus.OPERATIONAL
MAINTENANCE = ComponentStatus.UNDER_MAINTENANCE
DOWN = frozenset({ComponentStatus.PARTIAL_OUTAGE, ComponentStatus.FULL_OUTAGE})


def aware(moment: datetime) -> datetime:
    """A datetime in UTC; naive values are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch."""
    delta = aware(moment) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def to_datetime(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


# ---- timelines: what depends only on the ledger ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A maximal stretch of one component's non-operational time with one status and events."""

    start: int
    end: int
    status: ComponentStatus
    responsible: tuple[str, ...]  # the events holding the component at `status`
    active: tuple[str, ...]  # every event holding it (at any status)


@dataclass(frozen=True, slots=True)
class Timeline:
    """One component's segments, sorted and disjoint; time outside them is OPERATIONAL."""

    segments: tuple[Segment, ...] = ()
    ends: tuple[int, ...] = ()

    def overlapping(self, start: int, end: int) -> Iterator[Segment]:
        """The segments that intersect [start, end)."""
        segments = self.segments
        i = bisect_right(self.ends, start)
        while i < len(segments) and segments[i].start < end:
            yield segments[i]
            i += 1


EMPTY = Timeline()

# (event id, status, start, end) of one span of one component; end is OPEN while it holds.
Span = tuple[str, ComponentStatus, int, int]


def build_timeline(spans: Sequence[Span]) -> Timeline:
    """Sweep the spans: at every instant the worst status by precedence wins (PRODUCT.md §2)."""
    points: list[tuple[int, int, int]] = []  # (time, 0 = a span ends / 1 = starts, index)
    for index, (_, _, start, end) in enumerate(spans):
        if end > start:
            points.append((start, 1, index))
            if end != OPEN:
                points.append((end, 0, index))
    points.sort()
    active: dict[int, None] = {}  # ordered by start, for a stable order of event ids
    segments: list[Segment] = []
    k = 0
    while k < len(points):
        moment = points[k][0]
        while k < len(points) and points[k][0] == moment:
            _, starts, index = points[k]
            if starts:
                active[index] = None
            else:
                active.pop(index, None)
            k += 1
        if not active:
            continue
        following = points[k][0] if k < len(points) else OPEN
        held = [spans[i] for i in active]
        status = max((s[1] for s in held), key=lambda s: s.rank)
        responsible = tuple(dict.fromkeys(s[0] for s in held if s[1] is status))
        every = tuple(dict.fromkeys(s[0] for s in held))
        last = segments[-1] if segments else None
        if (last is not None and last.end == moment and last.status is status
                and last.responsible == responsible and last.active == every):
            segments[-1] = Segment(last.start, following, status, responsible, every)
        else:
            segments.append(Segment(moment, following, status, responsible, every))
    return Timeline(tuple(segments), tuple(s.end for s in segments))


SpanRow = tuple[str, str, ComponentStatus | str, datetime, datetime | None]


def build_timelines(rows: Iterable[SpanRow]) -> dict[str, Timeline]:
    """Timelines by component id from (component, event, status, start, end) rows."""
    by_component: dict[str, list[Span]] = defaultdict(list)
    for component_id, event_id, status, start, end in rows:
        by_component[component_id].append((
            event_id, ComponentStatus(status), to_us(start),
            OPEN if end is None else to_us(end),
        ))
    # Sorted input gives the same event order however the database returned the rows.
    return {cid: build_timeline(sorted(spans, key=lambda s: (s[2], s[0])))
            for cid, spans in by_component.items()}


@dataclass(frozen=True, slots=True)
class Ledger:
    """A page's timelines, exact for every instant from `covered_from` on."""

    covered_from: int
    timelines: dict[str, Timeline]

    def timeline(self, component_id: str) -> Timeline:
        return self.timelines.get(component_id, EMPTY)


_cache: OrderedDict[tuple[str, int], Ledger] = OrderedDict()


def clear_cache() -> None:
    """Forget every cached ledger (benchmarks measure cold runs with it)."""
    _cache.clear()


async def page_ledger(*, page_id: str, sequence: int, covering: int) -> Ledger:
    """The page's ledger at this sequence, exact from `covering` on: cached, or one query."""
    key = (page_id, sequence)
    cached = _cache.get(key)
    if cached is not None and cached.covered_from <= covering:
        _cache.move_to_end(key)
        return cached
    rows = await ImpactSpan.filter(
        Q(page_id=page_id), Q(end__isnull=True) | Q(end__gt=to_datetime(covering))
    ).values_list("component_id", "event_id", "status", "start", "end")
    ledger = Ledger(covering, build_timelines(rows))  # type: ignore[arg-type]
    for stale in [k for k in _cache if k[0] == page_id and k[1] < sequence]:
        del _cache[stale]
    _cache[key] = ledger
    _cache.move_to_end(key)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return ledger


# ---- figures: what depends on the window -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    """One component's share of a window: [start, end) after clipping to its `since`."""

    component: Component
    timeline: Timeline
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch of one component's time at one status, and the events responsible for it."""

    component: Component
    start: datetime
    end: datetime
    status: ComponentStatus
    event_ids: tuple[str, ...]


@dataclass(slots=True)
class Figures:
    """Availability over a window, summed over components; seconds as floats, exact inside."""

    start_us: int
    end_us: int
    total_us: int = 0
    maintenance_us: int = 0
    downtime_us: int = 0
    worst: ComponentStatus | None = None  # null when no component counts in the window
    touched: dict[str, None] = field(default_factory=dict)  # events, in order of appearance
    parts: list[Part] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return to_datetime(self.start_us)

    @property
    def end(self) -> datetime:
        return to_datetime(self.end_us)

    @property
    def uptime_us(self) -> int:
        return self.total_us - self.maintenance_us - self.downtime_us

    @property
    def ratio(self) -> float | None:
        """uptime / (total − maintenance); None when nothing is countable."""
        countable = self.total_us - self.maintenance_us
        return self.uptime_us / countable if countable > 0 else None

    @property
    def event_ids(self) -> list[str]:
        return list(self.touched)

    def seconds(self, us: int) -> float:
        return us / US

    def intervals(self) -> list[Interval]:
        """Per component, intervals covering its clipped window without gaps."""
        return [interval for part in self.parts for interval in part_intervals(part)]


Piece = tuple[int, int, ComponentStatus, tuple[str, ...]]


def _add(pieces: list[Piece], piece: Piece) -> None:
    last = pieces[-1] if pieces else None
    if last is not None and last[2] is piece[2] and last[3] == piece[3] and last[1] == piece[0]:
        pieces[-1] = (last[0], piece[1], piece[2], piece[3])
    else:
        pieces.append(piece)


def part_intervals(part: Part) -> list[Interval]:
    """One component's intervals over its part of a window, OPERATIONAL ones included;
    adjacent stretches with the same status and responsible events are one interval."""
    pieces: list[Piece] = []
    cursor = part.start
    for segment in part.timeline.overlapping(part.start, part.end):
        start, end = max(segment.start, part.start), min(segment.end, part.end)
        if start > cursor:
            _add(pieces, (cursor, start, OPERATIONAL, ()))
        _add(pieces, (start, end, segment.status, segment.responsible))
        cursor = end
    if part.end > cursor:
        _add(pieces, (cursor, part.end, OPERATIONAL, ()))
    return [Interval(part.component, to_datetime(start), to_datetime(end), status, events)
            for start, end, status, events in pieces]


def measure(ledger: Ledger, components: Sequence[Component], start: int, end: int
            ) -> Figures:
    """Figures of these components over [start, end), each clipped to its `since`."""
    figures = Figures(start, end)
    earliest = end
    worst_rank = -1
    for component in components:
        part_start = min(max(start, to_us(component.since)), end)
        earliest = min(earliest, part_start)
        if part_start >= end:
            continue  # nothing of this window is counted for this component
        timeline = ledger.timeline(component.id)
        figures.parts.append(Part(component, timeline, part_start, end))
        figures.total_us += end - part_start
        worst_rank = max(worst_rank, 0)
        for segment in timeline.overlapping(part_start, end):
            length = min(segment.end, end) - max(segment.start, part_start)
            if segment.status is MAINTENANCE:
                figures.maintenance_us += length
            elif segment.status in DOWN:
                figures.downtime_us += length
            worst_rank = max(worst_rank, segment.status.rank)
            figures.touched.update(dict.fromkeys(segment.active))
    if worst_rank >= 0:
        figures.worst = next(s for s in ComponentStatus if s.rank == worst_rank)
    if components:
        figures.start_us = earliest
    return figures


# ---- one request ------------------------------------------------------------------------------


def window(now: datetime, start: datetime | None, end: datetime | None) -> tuple[int, int]:
    """[from, to) in microseconds: default [now − 90 days, now); `to` is clipped to now."""
    if start is not None and aware(start) >= aware(end if end is not None else now):
        raise invalid("from must be earlier than to" if end is not None
                      else "from must be in the past", "from")
    stop = min(aware(end), now) if end is not None else now
    begin = aware(start) if start is not None else stop - QUARTER
    return to_us(min(begin, stop)), to_us(stop)


class Reader:
    """One request's view of availability: one `now`, each page's ledger fetched at most once
    however many components, groups and bars ask for it (concurrent fields share the load)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = aware(now) if now is not None else utcnow()
        self._ledgers: dict[str, asyncio.Future[Ledger]] = {}

    async def ledger(self, page: StatusPage, start: int) -> Ledger:
        """The page's ledger, exact from `start` on."""
        pending = self._ledgers.get(page.id)
        if pending is not None:
            ledger = await pending
            if ledger.covered_from <= start:
                return ledger
        future: asyncio.Future[Ledger] = asyncio.get_running_loop().create_future()
        self._ledgers[page.id] = future
        try:
            ledger = await page_ledger(
                page_id=page.id, sequence=int(page.sequence),
                covering=min(start, to_us(self.now - PRELOAD)),
            )
        except BaseException as exc:
            del self._ledgers[page.id]
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters get it, nobody else should log it
            raise
        future.set_result(ledger)
        return ledger

    async def availability(self, *, page: StatusPage, components: Sequence[Component],
                           start: datetime | None = None, end: datetime | None = None
                           ) -> Figures:
        """Figures of these components of the page over [start, end) (defaults §10)."""
        begin, stop = window(self.now, start, end)
        ledger = await self.ledger(page, begin)
        return measure(ledger, components, begin, stop)
