"""The status ledger: an event's ImpactSpan rows and derived fields, rebuilt from its updates.

Rules (PRODUCT.md §2–3, §10): within one event updates apply in time order and each update's
impacts are a delta; a final update (RESOLVED / COMPLETED) returns every component to
OPERATIONAL as far as the event is concerned; a SCHEDULED maintenance holds nothing. For a
retrospective event the first update's impacts hold from the event's `startedAt`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from models import Event, EventComponent, EventUpdate, ImpactSpan, UpdateImpact
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventStatus

OPERATIONAL = ComponentStatus.OPERATIONAL


@dataclass(frozen=True)
class Step:
    """One update as the ledger sees it."""

    at: datetime
    status: EventStatus
    impacts: dict[str, ComponentStatus] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    component_id: str
    status: ComponentStatus
    start: datetime
    end: datetime | None


def spans_of(steps: Sequence[Step], *, first_at: datetime | None = None) -> list[Span]:
    """The maximal non-operational intervals per component held by one event's steps."""
    spans = _Spans()
    for index, step in enumerate(steps):
        if step.status != EventStatus.SCHEDULED:
            spans.step(step, first_at if index == 0 and first_at is not None else step.at)
    return spans.all()


class _Spans:
    """The spans being drawn, step by step: those still held and those closed."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[ComponentStatus, datetime]] = {}
        self.closed: list[Span] = []

    def step(self, step: Step, at: datetime) -> None:
        for cid, impact in step.impacts.items():
            current = self.held.get(cid)
            if current is not None and current[0] == impact:
                continue
            if current is not None:
                self.close(cid, at)
            if impact != OPERATIONAL:
                self.open(cid, impact, at)
        if step.status.final:
            for cid in list(self.held):
                self.close(cid, at)

    def close(self, cid: str, at: datetime) -> None:
        status, start = self.held.pop(cid)
        if at > start:
            self.closed.append(Span(cid, status, start, at))

    def open(self, cid: str, status: ComponentStatus, at: datetime) -> None:
        # Re-join a span of the same status that closed at this very instant (maximality).
        for index in range(len(self.closed) - 1, -1, -1):
            span = self.closed[index]
            if span.component_id == cid and span.end == at and span.status == status:
                del self.closed[index]
                self.held[cid] = (status, span.start)
                return
        self.held[cid] = (status, at)

    def all(self) -> list[Span]:
        return self.closed + [Span(cid, status, start, None)
                              for cid, (status, start) in self.held.items()]


def current_impacts(steps: Sequence[Step]) -> dict[str, ComponentStatus]:
    """Each named component's impact after the last step (all OPERATIONAL once final)."""
    state: dict[str, ComponentStatus] = {}
    for step in steps:
        for cid, impact in step.impacts.items():
            state[cid] = impact
        if step.status.final:
            state = dict.fromkeys(state, OPERATIONAL)
    return state


async def load_steps(event_id: str, conn: BaseDBAsyncClient) -> tuple[list[EventUpdate],
                                                                      list[Step]]:
    """The event's updates in time order and their steps."""
    updates = await EventUpdate.filter(event_id=event_id).using_db(conn).order_by(
        "at", "created_at", "id"
    )
    impacts = await UpdateImpact.filter(update_id__in=[u.id for u in updates]).using_db(conn)
    by_update: dict[str, dict[str, ComponentStatus]] = {u.id: {} for u in updates}
    for row in impacts:
        by_update[row.update_id][row.component_id] = ComponentStatus(row.impact)
    return updates, [Step(u.at, EventStatus(u.status), by_update[u.id]) for u in updates]


def _span_key(span: Span) -> tuple[str, str, datetime, datetime | None]:
    return (span.component_id, span.status.value, span.start, span.end)


async def rebuild(event: Event, conn: BaseDBAsyncClient) -> set[str]:
    """Re-derive the event's status, times, affected components and ledger rows from its
    updates (inside the caller's transaction); return the components whose spans changed."""
    updates, steps = await load_steps(event.id, conn)
    if updates:
        last = updates[-1]
        event.status = EventStatus(last.status)
        if not event.retrospective:
            if event.kind == EventKind.INCIDENT:
                event.started_at = updates[0].at
            else:
                started = [u.at for u in updates if u.status != EventStatus.SCHEDULED]
                event.started_at = started[0] if started and not event.cancelled else None
            event.ended_at = last.at if event.status.final else None
    event.updated_at = utcnow()
    await event.save(using_db=conn)

    first_at = event.started_at if event.retrospective else None
    new_spans = spans_of(steps, first_at=first_at)
    old_rows = await ImpactSpan.filter(event_id=event.id).using_db(conn)
    old = {(r.component_id, ComponentStatus(r.status).value, r.start, r.end) for r in old_rows}
    new = {_span_key(s) for s in new_spans}
    changed = {key[0] for key in old ^ new}
    await ImpactSpan.filter(event_id=event.id).using_db(conn).delete()
    if new_spans:
        await ImpactSpan.bulk_create(
            [ImpactSpan(page_id=event.page_id, event_id=event.id, component_id=s.component_id,
                        status=s.status, start=s.start, end=s.end) for s in new_spans],
            using_db=conn,
        )
    await _rebuild_affected(event, steps, conn)
    return changed


async def _rebuild_affected(event: Event, steps: list[Step], conn: BaseDBAsyncClient) -> None:
    """EventComponent rows: the planned set and every component ever named, with the
    event's current impact (planned maintenance shows UNDER_MAINTENANCE while SCHEDULED)."""
    rows = await EventComponent.filter(event_id=event.id).using_db(conn).order_by("position")
    planned = [r.component_id for r in rows if r.planned]
    order: list[str] = list(planned)
    for step in steps:
        order.extend(cid for cid in step.impacts if cid not in order)
    state = current_impacts(steps)
    scheduled = event.status == EventStatus.SCHEDULED
    await EventComponent.filter(event_id=event.id).using_db(conn).delete()
    if not order:
        return
    await EventComponent.bulk_create(
        [
            EventComponent(
                event_id=event.id, component_id=cid, planned=cid in planned, position=index,
                impact=ComponentStatus.UNDER_MAINTENANCE if scheduled and cid in planned
                else state.get(cid, OPERATIONAL),
            )
            for index, cid in enumerate(order)
        ],
        using_db=conn,
    )
