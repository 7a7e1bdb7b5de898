"""What availability reads from the ledger: per-component timelines built from a page's
ImpactSpan rows, cached in-process per (page, sequence) because they depend on nothing else.

Times are integer microseconds since the epoch here, so every sum is exact."""

from __future__ import annotations

import gc
from bisect import bisect_right
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise import connections
from tortoise.expressions import Q

from models import ImpactSpan
from models.enums import ComponentStatus

US = 1_000_000
ONE_US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPEN = 1 << 62  # the end of a span that still holds
CACHE_SIZE = 128

# How each status counts: up (OPERATIONAL, DEGRADED), maintenance, or down.
UP, MAINTENANCE, DOWN = 0, 1, 2
KIND = {
    ComponentStatus.OPERATIONAL: UP,
    ComponentStatus.DEGRADED: UP,
    ComponentStatus.UNDER_MAINTENANCE: MAINTENANCE,
    ComponentStatus.PARTIAL_OUTAGE: DOWN,
    ComponentStatus.FULL_OUTAGE: DOWN,
}
BY_RANK = {s.rank: s for s in ComponentStatus}
STATUS = {s.value: s for s in ComponentStatus}


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection while building many objects that form no cycles: a full
    collection of a large process's heap in the middle would cost more than the build.
    Synchronous code only (no other task runs while it is paused)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


# The cyclic collector's young generation: container allocations between two collections. A
# 200-component page's GraphQL answer allocates ~100,000 containers that live as long as the
# request; with Python's default (700) many survive two young collections into the old
# generation, and every few requests a full collection scans all that is kept (past days,
# ledgers: ~300,000 objects, 100–250 ms). Ten times fewer young collections, each short.
YOUNG_GENERATION = 10_000


def tune_gc() -> None:
    """Raise the young generation's threshold to YOUNG_GENERATION (the server's start-up)."""
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG_GENERATION:
        gc.set_threshold(YOUNG_GENERATION, middle, old)


def aware(moment: datetime) -> datetime:
    """A datetime in UTC; naive values are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch (exact)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // ONE_US


def to_datetime(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


# (start, event id, status, end) of one span of one component; end is OPEN while it holds.
Span = tuple[int, str, ComponentStatus, int]


@dataclass(slots=True)  # not frozen: its __init__ is several times faster; never mutated
class Segment:
    """A maximal stretch of one component's non-operational time with one status and events."""

    start: int
    end: int
    status: ComponentStatus
    rank: int
    kind: int  # UP, MAINTENANCE or DOWN
    responsible: tuple[str, ...]  # the events holding the component at `status`
    active: tuple[str, ...]  # every event holding it (at any status)


@dataclass(frozen=True, slots=True, eq=False)
class Timeline:
    """One component's segments, sorted and disjoint; time outside them is OPERATIONAL.
    `source`: the sorted spans it was built from. Equal sources give equal timelines, so a
    ledger re-read after a change reuses the timelines of the components it left alone (and
    what was derived from them, resolvers.daily_bars) by identity."""

    segments: tuple[Segment, ...] = ()
    ends: tuple[int, ...] = ()
    source: tuple[Span, ...] = ()

    def first_after(self, moment: int) -> int:
        """The index of the first segment that ends after `moment`."""
        return bisect_right(self.ends, moment)

    def overlapping(self, start: int, end: int) -> Iterator[Segment]:
        """The segments that intersect [start, end)."""
        segments = self.segments
        i = self.first_after(start)
        while i < len(segments) and segments[i].start < end:
            yield segments[i]
            i += 1


EMPTY = Timeline()
RANK = {s: s.rank for s in ComponentStatus}


def _describe(held: list[Span]) -> tuple[ComponentStatus, tuple[str, ...], tuple[str, ...]]:
    if len(held) == 1:  # the common case: one event holds the component
        return held[0][2], (held[0][1],), (held[0][1],)
    status = BY_RANK[max(RANK[s[2]] for s in held)]
    return (status, tuple(dict.fromkeys(s[1] for s in held if s[2] is status)),
            tuple(dict.fromkeys(s[1] for s in held)))


def _append(segments: list[Segment], start: int, end: int, status: ComponentStatus,
            responsible: tuple[str, ...], every: tuple[str, ...]) -> None:
    """Add a segment, or extend the last one when it continues it unchanged (maximality)."""
    last = segments[-1] if segments else None
    if (last is not None and last.end == start and last.status is status
            and last.responsible == responsible and last.active == every):
        last.end = end  # still being built: nobody else holds it yet
    else:
        segments.append(Segment(start, end, status, RANK[status], KIND[status], responsible,
                                every))


def build_timeline(spans: Sequence[Span]) -> Timeline:
    """The component's segments from its spans sorted by (start, event). Spans that overlap
    no other become segments as they are; each cluster of overlapping ones is swept."""
    segments: list[Segment] = []
    cluster: list[Span] = []
    reach = -1  # the latest end in the cluster
    for span in spans:
        start, _, _, end = span
        if end <= start:
            continue
        if cluster and start >= reach:
            _close(cluster, segments)
            cluster = []
        cluster.append(span)
        reach = max(reach, end)
    if cluster:
        _close(cluster, segments)
    return Timeline(tuple(segments), tuple(s.end for s in segments), tuple(spans))


def _close(cluster: list[Span], segments: list[Segment]) -> None:
    if len(cluster) == 1:
        start, event, status, end = cluster[0]
        _append(segments, start, end, status, (event,), (event,))
    else:
        sweep(cluster, segments)


def sweep(spans: Sequence[Span], segments: list[Segment]) -> None:
    """Sweep overlapping spans: at every instant the worst status by precedence wins
    (PRODUCT.md §2). Spans sorted by (start, event) give a stable order of event ids."""
    # Each boundary is one int (time, then 0 = a span ends / 1 = starts, then the span's
    # index): ints sort several times faster than tuples.
    shift = len(spans).bit_length() + 1
    starts_bit = 1 << (shift - 1)
    index_mask = starts_bit - 1
    points: list[int] = []
    for index, (start, _, _, end) in enumerate(spans):
        points.append((start << shift) | starts_bit | index)
        if end != OPEN:
            points.append((end << shift) | index)
    points.sort()
    active: dict[int, None] = {}  # ordered by start
    k, total = 0, len(points)
    while k < total:
        moment = points[k] >> shift
        while k < total and points[k] >> shift == moment:
            point = points[k]
            if point & starts_bit:
                active[point & index_mask] = None
            else:
                del active[point & index_mask]
            k += 1
        if active:
            following = points[k] >> shift if k < total else OPEN
            _append(segments, moment, following, *_describe([spans[i] for i in active]))


SpanRow = tuple[str, str, str, int | datetime | str, int | datetime | str | None]


def _instant(value: int | datetime | str) -> int:
    if isinstance(value, int):
        return value
    return to_us(datetime.fromisoformat(value) if isinstance(value, str) else value)


def build_timelines(rows: Iterable[SpanRow], previous: dict[str, Timeline] | None = None
                    ) -> dict[str, Timeline]:
    """Timelines by component id from (component, event, status, start, end) rows; times in
    microseconds since the epoch, or datetimes (or their ISO text). A timeline of `previous`
    built from the same spans is reused as it is."""
    by_component: dict[str, list[Span]] = defaultdict(list)
    parse = datetime.fromisoformat
    begin: int
    stop: int
    for component_id, event_id, status, start, end in rows:
        if start.__class__ is int:  # PostgreSQL's epoch microseconds; inlined: once per row
            begin = start  # type: ignore[assignment]
            stop = OPEN if end is None else end  # type: ignore[assignment]
        elif start.__class__ is str:  # SQLite's text
            begin = (parse(start) - EPOCH) // ONE_US  # type: ignore[arg-type]
            stop = OPEN if end is None else (parse(end) - EPOCH) // ONE_US  # type: ignore
        else:
            begin, stop = _instant(start), OPEN if end is None else _instant(end)
        by_component[component_id].append((begin, event_id, STATUS[status], stop))
    # Sorted input gives the same event order however the database returned the rows.
    found: dict[str, Timeline] = {}
    before = previous or {}
    for cid, spans in by_component.items():
        spans.sort()
        known = before.get(cid)
        if known is not None and len(known.source) == len(spans) and known.source == tuple(spans):
            found[cid] = known
        else:
            found[cid] = build_timeline(spans)
    return found


@dataclass(frozen=True, slots=True)
class Ledger:
    """A page's timelines, exact for every instant from `covered_from` on."""

    covered_from: int
    timelines: dict[str, Timeline]

    def timeline(self, component_id: str) -> Timeline:
        return self.timelines.get(component_id, EMPTY)


_cache: OrderedDict[tuple[str, int], Ledger] = OrderedDict()
# Caches of what is derived from timelines (resolvers.daily_bars): cleared with the ledgers.
on_clear: list[Callable[[], None]] = []


def clear_cache() -> None:
    """Forget every cached ledger and what was derived from one (benchmarks measure cold runs
    with it)."""
    _cache.clear()
    for clear in on_clear:
        clear()


async def _span_rows(page_id: str, covering: int) -> list[SpanRow]:
    """The page's spans that end after `covering` (or still hold), in one statement.

    Raw rows, not tortoise's per-value conversion (which would dominate a cold load):
    PostgreSQL turns timestamps into epoch microseconds itself; SQLite's ISO text is parsed
    by `datetime.fromisoformat`, faster than SQLite's own date functions."""
    connection = connections.get("default")
    table = ImpactSpan._meta.db_table
    if connection.capabilities.dialect == "postgres":
        start, end = (f'CAST(EXTRACT(EPOCH FROM "{c}") * 1000000 AS BIGINT)'
                      for c in ("start", "end"))
        _, rows = await connection.execute_query(
            f'SELECT "component_id", "event_id", "status", {start}, {end} FROM "{table}" '
            f'WHERE "page_id" = $1 AND ("end" IS NULL OR "end" > $2)',
            [page_id, to_datetime(covering)],
        )
        return rows
    if connection.capabilities.dialect == "sqlite":
        # julianday() rounds to milliseconds: a second's margin keeps every span needed.
        _, rows = await connection.execute_query(
            f'SELECT "component_id", "event_id", "status", "start", "end" FROM "{table}" '
            f'WHERE "page_id" = ? AND ("end" IS NULL OR julianday("end") > julianday(?))',
            [page_id, to_datetime(covering - US).isoformat(" ")],
        )
        return rows
    return await ImpactSpan.filter(  # type: ignore[return-value]
        Q(page_id=page_id), Q(end__isnull=True) | Q(end__gt=to_datetime(covering))
    ).values_list("component_id", "event_id", "status", "start", "end")


async def page_ledger(*, page_id: str, sequence: int, covering: int) -> Ledger:
    """The page's ledger at this sequence, exact from `covering` on: cached, or one query."""
    key = (page_id, sequence)
    cached = _cache.get(key)
    if cached is not None and cached.covered_from <= covering:
        _cache.move_to_end(key)
        return cached
    rows = await _span_rows(page_id, covering)
    # The page's previous ledger, if still known: its unchanged timelines are reused.
    previous = max(((k[1], v) for k, v in _cache.items() if k[0] == page_id),
                   default=(0, None), key=lambda found: found[0])[1]
    with gc_paused():  # an object or two per row, no reference cycles
        ledger = Ledger(covering, build_timelines(
            rows, previous.timelines if previous is not None else None))
    for stale in [k for k in _cache if k[0] == page_id and k[1] < sequence]:
        del _cache[stale]
    _cache[key] = ledger
    _cache.move_to_end(key)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return ledger
