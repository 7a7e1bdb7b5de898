"""Availability (PRODUCT.md §4, §10): figures of components over windows, summed for groups
and pages, and the intervals they were computed from.

What depends only on the ledger (timelines) is cached per (page, sequence) in
`resolvers.availability_timeline`; what depends on now is computed per request by a `Reader`,
which loads each page's ledger at most once however many fields ask for it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from models import Component, StatusPage
from models.base import utcnow
from models.enums import ComponentStatus
from resolvers.availability_timeline import (
    BY_RANK,
    DOWN,
    MAINTENANCE,
    OPEN,
    US,
    Ledger,
    Segment,
    Timeline,
    aware,
    build_timelines,
    clear_cache,
    page_ledger,
    to_datetime,
    to_us,
)
from resolvers.errors import invalid

__all__ = ["OPEN", "Figures", "Interval", "Ledger", "Part", "Reader", "build_timelines",
           "clear_cache", "measure", "measure_windows", "to_us", "window"]

QUARTER = timedelta(days=90)
# Load a little more than the default window so that the default quarter and 90 daily bars
# (whose first local day may begin up to a day earlier) share one load per sequence number.
PRELOAD = timedelta(days=92)
OPERATIONAL = ComponentStatus.OPERATIONAL


class Part(NamedTuple):
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
    """Availability over a window, summed over components (microseconds inside, exact)."""

    start_us: int
    end_us: int
    total_us: int = 0
    maintenance_us: int = 0
    downtime_us: int = 0
    worst_rank: int = -1  # -1: no component counts in the window
    touched: dict[str, None] = field(default_factory=dict)  # events, in order of appearance
    # What the intervals are derived from, on demand (most figures are never audited).
    window_start_us: int = 0  # the window asked for, before clipping to `since`
    ledger: Ledger | None = None
    components: Sequence[Component] = ()

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
    def worst(self) -> ComponentStatus | None:
        """The worst status in the window; None when no component counts in it."""
        return BY_RANK[self.worst_rank] if self.worst_rank >= 0 else None

    @property
    def event_ids(self) -> list[str]:
        return list(self.touched)

    @staticmethod
    def seconds(us: int) -> float:
        return us / US

    @property
    def parts(self) -> list[Part]:
        """Each counted component's share of the window."""
        if self.ledger is None:
            return []
        return [Part(c, self.ledger.timeline(c.id), max(self.window_start_us, to_us(c.since)),
                     self.end_us)
                for c in self.components if to_us(c.since) < self.end_us]

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


def measure_windows(ledger: Ledger, components: Sequence[Component], edges: Sequence[int]
                    ) -> list[Figures]:
    """Figures of these components over each consecutive window [edges[i], edges[i + 1]),
    each component clipped to its `since`: one sweep per component over all the windows."""
    count = len(edges) - 1
    found = [Figures(edges[i + 1], edges[i + 1], window_start_us=edges[i], ledger=ledger,
                     components=components) for i in range(count)]
    if count <= 0:
        return found
    for component in components:
        _sweep(found, ledger.timeline(component.id), to_us(component.since), edges)
    if not components:
        for i, figures in enumerate(found):
            figures.start_us = edges[i]
    return found


def _sweep(found: list[Figures], timeline: Timeline, since: int, edges: Sequence[int]) -> None:
    """Add one component's share of each window to `found` (one pass over its timeline)."""
    segments = timeline.segments
    j = timeline.first_after(max(edges[0], since))
    for i, figures in enumerate(found):
        start, end = edges[i], edges[i + 1]
        if since > start:
            if since >= end:
                continue  # nothing of this window is counted for this component
            start = since
        j = _add_window(figures, segments, j, start, end)


def _add_window(figures: Figures, segments: Sequence[Segment], j: int, start: int,
                end: int) -> int:
    """Add [start, end) of one component to the window's figures; `j` is the first segment
    that may reach it. Returns the first segment that may reach the next window."""
    if start < figures.start_us:
        figures.start_us = start
    figures.total_us += end - start
    worst = figures.worst_rank if figures.worst_rank > 0 else 0
    last = len(segments)
    while j < last and segments[j].end <= start:
        j += 1
    k = j
    while k < last:
        segment = segments[k]
        if segment.start >= end:
            break
        length = ((segment.end if segment.end < end else end)
                  - (segment.start if segment.start > start else start))
        if segment.kind == MAINTENANCE:
            figures.maintenance_us += length
        elif segment.kind == DOWN:
            figures.downtime_us += length
        if segment.rank > worst:
            worst = segment.rank
        for event_id in segment.active:
            figures.touched[event_id] = None
        k += 1
    figures.worst_rank = worst
    return j


def measure(ledger: Ledger, components: Sequence[Component], start: int, end: int
            ) -> Figures:
    """Figures of these components over [start, end), each clipped to its `since`."""
    return measure_windows(ledger, components, (start, end))[0]


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
        self.memo: dict[Any, Any] = {}  # per-request results that depend on now (local days)
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
