"""Property: the figures, intervals and touched events computed from random span histories
match a brute-force per-minute simulation (short windows, bounded examples)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import Component
from models.enums import ComponentStatus
from resolvers.availability import OPEN, Ledger, build_timelines, measure, to_us
from resolvers.daily_bars import day_start, zone

pytestmark = pytest.mark.onepass  # pure computation: the dialect does not matter

BASE = datetime(2026, 1, 1, tzinfo=UTC)
MINUTE = 60 * 10**6
HORIZON = 240  # minutes simulated
STATUSES = [s for s in ComponentStatus if s is not ComponentStatus.OPERATIONAL]
COMPONENTS = ("api", "web", "db")
EVENTS = ("e1", "e2", "e3", "e4")

# (component, event, status, start minute, end minute or None while it holds)
spans_strategy = st.lists(
    st.tuples(
        st.sampled_from(COMPONENTS), st.sampled_from(EVENTS), st.sampled_from(STATUSES),
        st.integers(0, HORIZON - 1), st.one_of(st.none(), st.integers(1, 150)),
    ).map(lambda t: (t[0], t[1], t[2], t[3], None if t[4] is None else t[3] + t[4])),
    max_size=12,
)


def at(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


def status_at(spans: list[tuple[str, str, ComponentStatus, int, int | None]], component: str,
              minute: int) -> tuple[ComponentStatus, set[str], set[str]]:
    """The brute force: the worst status holding at this minute, its events, every event."""
    holding = [(e, s) for c, e, s, start, end in spans
               if c == component and start <= minute and (end is None or minute < end)]
    if not holding:
        return ComponentStatus.OPERATIONAL, set(), set()
    worst = max((s for _, s in holding), key=lambda s: s.rank)
    return worst, {e for e, s in holding if s is worst}, {e for e, _ in holding}


@settings(max_examples=60, deadline=None)
@given(
    spans=spans_strategy,
    since=st.fixed_dictionaries({c: st.integers(-30, HORIZON + 10) for c in COMPONENTS}),
    window=st.tuples(st.integers(0, HORIZON - 1), st.integers(1, HORIZON)).map(
        lambda w: (w[0], min(HORIZON, w[0] + w[1]))),
    chosen=st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=3, unique=True),
)
def test_figures_match_a_per_minute_simulation(
    spans: list[tuple[str, str, ComponentStatus, int, int | None]], since: dict[str, int],
    window: tuple[int, int], chosen: list[str],
) -> None:
    ledger = Ledger(to_us(BASE) - 10 * MINUTE, build_timelines(
        (c, e, s, at(start), None if end is None else at(end)) for c, e, s, start, end in spans
    ))
    components = [Component(id=c, page_id="p", since=at(since[c])) for c in chosen]
    start, end = window

    figures = measure(ledger, components, to_us(at(start)), to_us(at(end)))

    tally: Counter[str] = Counter()
    touched: set[str] = set()
    expected_minutes: dict[tuple[str, int], tuple[ComponentStatus, set[str]]] = {}
    counted = False
    worst = ComponentStatus.OPERATIONAL
    for component in chosen:
        for minute in range(max(start, since[component]), end):
            counted = True
            status, responsible, every = status_at(spans, component, minute)
            expected_minutes[(component, minute)] = (status, responsible)
            touched |= every
            worst = max(worst, status, key=lambda s: s.rank)
            tally["total"] += 1
            if status is ComponentStatus.UNDER_MAINTENANCE:
                tally["maintenance"] += 1
            elif status in (ComponentStatus.PARTIAL_OUTAGE, ComponentStatus.FULL_OUTAGE):
                tally["downtime"] += 1

    assert figures.total_us == tally["total"] * MINUTE
    assert figures.maintenance_us == tally["maintenance"] * MINUTE
    assert figures.downtime_us == tally["downtime"] * MINUTE
    countable = tally["total"] - tally["maintenance"]
    uptime = countable - tally["downtime"]
    assert figures.ratio == (uptime / countable if countable else None)
    assert set(figures.event_ids) == touched
    assert figures.worst == (worst if counted else None)

    # The intervals cover each component's counted window without gaps, minute by minute.
    seen: dict[tuple[str, int], tuple[ComponentStatus, set[str]]] = {}
    previous: dict[str, datetime] = {}
    for interval in figures.intervals():
        cid = interval.component.id
        assert interval.start < interval.end
        assert interval.start == previous.get(cid, at(max(start, since[cid])))
        previous[cid] = interval.end
        minute = int((interval.start - BASE).total_seconds()) // 60
        while at(minute) < interval.end:
            seen[(cid, minute)] = (interval.status, set(interval.event_ids))
            minute += 1
    assert all(previous[c] == at(end) for c in previous)
    assert seen == expected_minutes


@settings(max_examples=30, deadline=None)
@given(spans=spans_strategy, cuts=st.lists(st.integers(1, HORIZON - 1), max_size=6))
def test_days_add_up_to_their_window(
    spans: list[tuple[str, str, ComponentStatus, int, int | None]], cuts: list[int]
) -> None:
    # Bars partition a window: their seconds add up to the whole window's.
    ledger = Ledger(to_us(BASE), build_timelines(
        (c, e, s, at(start), None if end is None else at(end)) for c, e, s, start, end in spans
    ))
    components = [Component(id=c, page_id="p", since=at(0)) for c in COMPONENTS]
    edges = [0, *sorted(set(cuts)), HORIZON]
    whole = measure(ledger, components, to_us(at(0)), to_us(at(HORIZON)))
    parts = [measure(ledger, components, to_us(at(a)), to_us(at(b)))
             for a, b in pairwise(edges)]
    for name in ("total_us", "maintenance_us", "downtime_us"):
        assert sum(getattr(p, name) for p in parts) == getattr(whole, name)
    assert set().union(*(p.event_ids for p in parts)) == set(whole.event_ids)
    assert OPEN > to_us(at(HORIZON))


ZONES = ("UTC", "Europe/Berlin", "America/Havana", "America/Santiago", "Pacific/Apia",
         "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns")


@settings(max_examples=60, deadline=None)
@given(zone_name=st.sampled_from(ZONES), day=st.dates(date(1990, 1, 1), date(2035, 12, 31)))
def test_a_local_day_starts_at_its_first_instant(zone_name: str, day: date) -> None:
    tz = zone(zone_name)
    start, following = day_start(day, tz), day_start(day + timedelta(days=1), tz)
    # Nothing earlier belongs to the date; the start itself does (unless the date was
    # skipped altogether, as Apia skipped 30 December 2011).
    assert (start - timedelta(microseconds=1)).astimezone(tz).date() < day
    assert start.astimezone(tz).date() >= day
    assert following >= start
    assert timedelta(hours=0) <= following - start <= timedelta(hours=25)
