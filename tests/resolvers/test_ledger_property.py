"""Property: after any sequence of event writes — incidents, updates, retrospective and
overlapping events, maintenance with its timer, edits and deletions, refused or not — the
ledger (ImpactSpan) and the current status equal a brute-force replay of the raw updates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Event, EventUpdate, ImpactSpan, UpdateImpact, User
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventStatus
from resolvers import event as events
from resolvers import maintenance, retrospective, revision
from resolvers.auth import Actor
from resolvers.errors import DomainError
from resolvers.status import statuses_at
from tests.conftest import empty_all_tables
from tests.helpers.events import make_page, snapshot

S = ComponentStatus
OP = S.OPERATIONAL
US = timedelta(microseconds=1)
IMPACTS = [S.DEGRADED, S.PARTIAL_OUTAGE, S.FULL_OUTAGE, OP, OP, S.UNDER_MAINTENANCE]
INCIDENT_FLOW = [EventStatus.INVESTIGATING, EventStatus.IDENTIFIED, EventStatus.MONITORING,
                 EventStatus.RESOLVED]
OPS = ["incident", "incident", "post", "post", "post", "retro", "retro", "maintenance",
       "tick", "edit", "delete_update", "delete_event"]


def impacts_strategy(components: list[str]) -> st.SearchStrategy[list[tuple[str, S]]]:
    return st.lists(st.tuples(st.sampled_from(components), st.sampled_from(IMPACTS)),
                    max_size=3, unique_by=lambda pair: pair[0])


def replay(event: Event, timeline: list[tuple[EventUpdate, dict[str, S]]],
           t: datetime) -> dict[str, S]:
    """The brute force: the event's non-operational impacts at instant t, from its updates."""
    state: dict[str, S] = {}
    for index, (update, impacts) in enumerate(timeline):
        effective = event.started_at if event.retrospective and index == 0 else update.at
        assert effective is not None
        if effective > t:
            break
        if update.status == EventStatus.SCHEDULED:
            continue
        state.update(impacts)
        if EventStatus(update.status).final:
            state = {}
    return {cid: s for cid, s in state.items() if s != OP}


def worst(statuses: list[S]) -> S:
    return max(statuses, key=lambda s: s.rank, default=OP)


Timeline = list[tuple[EventUpdate, dict[str, S]]]


async def assert_ledger_matches_replay(page_id: str, components: list[str]) -> None:
    all_events = {e.id: e for e in await Event.filter(page_id=page_id)}
    updates = await EventUpdate.filter(event_id__in=list(all_events)).order_by(
        "at", "created_at", "id")
    timelines = await timelines_of(updates)
    spans = await ImpactSpan.filter(page_id=page_id)
    assert_spans_are_well_shaped(spans, all_events)
    now = utcnow()

    def replayed(cid: str, t: datetime) -> list[S]:
        return [s for e in all_events.values() for c, s in replay(e, timelines[e.id], t).items()
                if c == cid]

    # Values: at every instant that matters, spans and replay agree on every component.
    for t in instants_that_matter(now, updates, list(all_events.values()), spans):
        for cid in components:
            held = [s.status for s in spans if s.component_id == cid and s.start <= t
                    and (s.end is None or t < s.end)]
            assert worst(held) == worst(replayed(cid, t)), (cid, t)
    current = await statuses_at([page_id], now)
    for cid in components:
        assert current.get(cid, OP) == worst(replayed(cid, now))


async def timelines_of(updates: list[EventUpdate]) -> dict[str, Timeline]:
    """Each event's updates in order, with the impacts each names."""
    impacts: dict[str, dict[str, S]] = defaultdict(dict)
    for row in await UpdateImpact.filter(update_id__in=[u.id for u in updates]):
        impacts[row.update_id][row.component_id] = S(row.impact)
    timelines: dict[str, Timeline] = defaultdict(list)
    for update in updates:
        timelines[update.event_id].append((update, impacts[update.id]))
    return timelines


def assert_spans_are_well_shaped(spans: list[ImpactSpan], all_events: dict[str, Event]) -> None:
    """Per (event, component): non-overlapping, non-empty, maximal, non-operational."""
    grouped: dict[tuple[str, str], list[ImpactSpan]] = defaultdict(list)
    for span in spans:
        assert span.event_id in all_events
        assert span.status != OP and (span.end is None or span.start < span.end)
        grouped[(span.event_id, span.component_id)].append(span)
    for (event_id, _), rows in grouped.items():
        rows.sort(key=lambda s: s.start)
        for before, after in pairwise(rows):
            assert before.end is not None and before.end <= after.start
            assert not (before.end == after.start and before.status == after.status)
        if rows[-1].end is None:
            assert not EventStatus(all_events[event_id].status).final


def instants_that_matter(now: datetime, updates: list[EventUpdate], events_: list[Event],
                         spans: list[ImpactSpan]) -> set[datetime]:
    """Now, and every instant where something starts or ends, and the one just before it."""
    edges = [u.at for u in updates] + [e.started_at for e in events_ if e.started_at]
    edges += [s.start for s in spans] + [s.end for s in spans if s.end]
    return {now} | set(edges) | {t - US for t in edges}


@dataclass
class Draw:
    """What one operation draws from: hypothesis's data and the page as it is now."""

    data: Any
    actor: Actor
    page_id: str
    components: list[str]
    base: datetime
    event_ids: list[str]
    update_ids: list[str]

    @property
    def impacts(self) -> st.SearchStrategy[list[tuple[str, S]]]:
        return impacts_strategy(self.components)


async def apply(op: str, data: Any, actor: Actor, page_id: str, components: list[str],
                base: datetime) -> None:
    """Draw the arguments of one operation against the current state and run it."""
    event_ids = [e for e in await Event.filter(page_id=page_id).order_by("created_at")
                 .values_list("id", flat=True)]
    update_ids = [u for u in await EventUpdate.filter(event__page_id=page_id)
                  .order_by("created_at").values_list("id", flat=True)]
    await OPERATIONS[op](Draw(data, actor, page_id, components, base, event_ids, update_ids))


async def _incident(d: Draw) -> None:
    await events.create_incident(
        actor=d.actor, page_id=d.page_id, title="i", message="m",
        status=d.data.draw(st.sampled_from(INCIDENT_FLOW[:3])), components=d.data.draw(d.impacts),
        started_at=d.base - timedelta(minutes=d.data.draw(st.integers(0, 600))))


async def _post(d: Draw) -> None:
    if d.event_ids:
        await events.post_event_update(
            actor=d.actor, event_id=d.data.draw(st.sampled_from(d.event_ids)),
            status=d.data.draw(st.sampled_from(list(EventStatus))), message="m",
            components=d.data.draw(d.impacts))


async def _retro(d: Draw) -> None:
    data = d.data
    kind = data.draw(st.sampled_from(list(EventKind)))
    ago = data.draw(st.integers(30, 900))
    start = d.base - timedelta(minutes=ago)
    length = data.draw(st.integers(1, ago))
    offsets = sorted(data.draw(st.lists(st.integers(0, length), min_size=1, max_size=4,
                                        unique=True)))
    flow = INCIDENT_FLOW if kind == EventKind.INCIDENT else [
        EventStatus.IN_PROGRESS, EventStatus.COMPLETED]
    # Mostly valid timelines: final only last (a few refusals remain, e.g. not at endedAt).
    statuses = [data.draw(st.sampled_from(flow[:-1])) for _ in offsets[1:]]
    statuses.append(data.draw(st.sampled_from(flow)))
    if statuses[-1].final and data.draw(st.integers(0, 4)):
        offsets[-1] = length  # mostly where a final update belongs: at endedAt
    allowed = [i for i in IMPACTS if (i == S.UNDER_MAINTENANCE) == (
        kind == EventKind.MAINTENANCE) or i == OP]
    kind_impacts = st.lists(st.tuples(st.sampled_from(d.components), st.sampled_from(allowed)),
                            max_size=3, unique_by=lambda pair: pair[0])
    steps = [retrospective.RetroUpdate(
        at=start + timedelta(minutes=o), status=status, message="m",
        components=data.draw(kind_impacts))
        for o, status in zip(offsets, statuses, strict=True)]
    await retrospective.create_retrospective_event(
        actor=d.actor, page_id=d.page_id, kind=kind, title="r", started_at=start,
        ended_at=start + timedelta(minutes=length), components=data.draw(kind_impacts),
        updates=steps)


async def _maintenance(d: Draw) -> None:
    start = utcnow() + timedelta(minutes=d.data.draw(st.integers(1, 120)))
    await maintenance.schedule_maintenance(
        actor=d.actor, page_id=d.page_id, title="mt", message="m", scheduled_start=start,
        scheduled_end=start + timedelta(minutes=d.data.draw(st.integers(1, 120))),
        component_ids=[c for c, _ in d.data.draw(d.impacts)])


async def _tick(d: Draw) -> None:
    await maintenance.run_due_transitions(
        utcnow() + timedelta(minutes=d.data.draw(st.integers(0, 300))))


async def _edit(d: Draw) -> None:
    if not d.update_ids:
        return
    update_id = d.data.draw(st.sampled_from(d.update_ids))
    kwargs: dict[str, Any] = {"message": "edited"}
    if d.data.draw(st.booleans()):
        kwargs["components"] = d.data.draw(d.impacts)
    if d.data.draw(st.booleans()):
        # Near its current time, so that moves within the timeline happen too.
        current = (await EventUpdate.get(id=update_id)).at
        kwargs["at"] = current + timedelta(minutes=d.data.draw(st.integers(-90, 90)))
    await revision.edit_event_update(actor=d.actor, update_id=update_id, **kwargs)


async def _delete_update(d: Draw) -> None:
    if d.update_ids:
        await revision.delete_event_update(
            actor=d.actor, update_id=d.data.draw(st.sampled_from(d.update_ids)))


async def _delete_event(d: Draw) -> None:
    if d.event_ids:
        await events.delete_event(actor=d.actor,
                                  event_id=d.data.draw(st.sampled_from(d.event_ids)))


OPERATIONS: dict[str, Callable[[Draw], Awaitable[None]]] = {
    "incident": _incident, "post": _post, "retro": _retro, "maintenance": _maintenance,
    "tick": _tick, "edit": _edit, "delete_update": _delete_update,
    "delete_event": _delete_event,
}
assert set(OPERATIONS) == set(OPS)


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_ledger_and_status_match_a_replay_of_the_raw_updates(db: str, data: Any) -> None:
    await empty_all_tables()
    user = await User.create(email="prop@example.com", password_hash="-", is_admin=True)
    actor, page, ids = await make_page(user, days=3)
    components = list(ids.values())
    base = utcnow()
    for op in data.draw(st.lists(st.sampled_from(OPS), min_size=1, max_size=8)):
        before = await snapshot()
        try:
            await apply(op, data, actor, page.id, components, base)
        except DomainError:
            assert await snapshot() == before, op  # a refusal writes nothing
        await assert_ledger_matches_replay(page.id, components)
