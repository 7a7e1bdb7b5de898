"""Reading a page's events (filtered, keyset-paginated) and the demo page's history."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from models import Component, ComponentGroup, Event, StatusPage
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventState, EventStatus
from resolvers.auth import Actor
from resolvers.errors import invalid

MAX_FIRST = 100
# state -> (ordering column, descending?)
ORDER: dict[EventState | None, tuple[str, bool]] = {
    None: ("created_at", True),
    EventState.ACTIVE: ("started_at", True),
    EventState.PAST: ("ended_at", True),
    EventState.UPCOMING: ("scheduled_start", False),
}
FINAL = (EventStatus.RESOLVED, EventStatus.COMPLETED)
OPEN_INCIDENT = (EventStatus.INVESTIGATING, EventStatus.IDENTIFIED, EventStatus.MONITORING)


def _state_filter(state: EventState | None) -> Q:
    if state == EventState.ACTIVE:
        return Q(kind=EventKind.INCIDENT, status__in=OPEN_INCIDENT) | Q(
            kind=EventKind.MAINTENANCE, status=EventStatus.IN_PROGRESS)
    if state == EventState.PAST:
        return Q(status__in=FINAL)
    if state == EventState.UPCOMING:
        return Q(kind=EventKind.MAINTENANCE, status=EventStatus.SCHEDULED)
    return Q()


def encode_cursor(event: Event, state: EventState | None) -> str:
    column, _ = ORDER[state]
    value = getattr(event, column)
    raw = json.dumps([value.isoformat() if value else None, event.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, event_id = json.loads(raw)
        return datetime.fromisoformat(value), str(event_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise invalid("Not a cursor of this list", "after") from None


async def list_events(*, page: StatusPage, kind: EventKind | None = None,
                      state: EventState | None = None, first: int = 20,
                      after: str | None = None) -> tuple[list[Event], bool]:
    """One page of a page's events in the state's order, and whether more follow."""
    if not 0 <= first <= MAX_FIRST:
        raise invalid(f"first must be between 0 and {MAX_FIRST}", "first")
    column, descending = ORDER[state]
    query = Event.filter(Q(page_id=page.id), _state_filter(state))
    if kind is not None:
        query = query.filter(kind=kind)
    if after:
        value, last_id = _decode_cursor(after)
        op = "lt" if descending else "gt"
        before: dict[str, Any] = {f"{column}__{op}": value}
        tie: dict[str, Any] = {column: value, f"id__{op}": last_id}
        query = query.filter(Q(**before) | Q(**tie))
    prefix = "-" if descending else ""
    rows = await query.order_by(f"{prefix}{column}", f"{prefix}id").limit(first + 1)
    return list(rows[:first]), len(rows) > first


# ---- the demo page's history ------------------------------------------------------------------


async def demo_history(*, actor: Actor, page: StatusPage, components: Sequence[Component],
                       groups: Sequence[ComponentGroup]) -> None:
    """A few past incidents and one past maintenance, plus one upcoming maintenance."""
    from resolvers.maintenance import schedule_maintenance
    from resolvers.retrospective import RetroUpdate, create_retrospective_event

    by_name = {c.name: c.id for c in components}
    now = utcnow().replace(second=0, microsecond=0)

    def pick(*names: str) -> list[str]:
        return [by_name[n] for n in names if n in by_name] or [c.id for c in components[:1]]

    async def past(kind: EventKind, title: str, days_ago: float, hours: float,
                   impacts: list[tuple[str, ComponentStatus]],
                   timeline: list[tuple[float, EventStatus, str, list[Any]]]) -> None:
        start = now - timedelta(days=days_ago)
        await create_retrospective_event(
            actor=actor, page_id=page.id, kind=kind, title=title, started_at=start,
            ended_at=start + timedelta(hours=hours), components=impacts,
            updates=[RetroUpdate(at=start + timedelta(hours=h), status=s, message=m,
                                 components=c) for h, s, m, c in timeline],
        )

    api, auth = pick("API")[0], pick("Authentication")[0]
    eu_db = pick("EU database")[0]
    await past(EventKind.INCIDENT, "Elevated API error rates", 24, 2,
               [(api, ComponentStatus.PARTIAL_OUTAGE)],
               [(0, EventStatus.INVESTIGATING, "We are investigating elevated error rates.", []),
                (0.75, EventStatus.IDENTIFIED, "A faulty deploy was identified and rolled "
                 "back.", [(api, ComponentStatus.DEGRADED)]),
                (1.5, EventStatus.MONITORING, "Error rates are back to normal; monitoring.",
                 [(api, ComponentStatus.OPERATIONAL)]),
                (2, EventStatus.RESOLVED, "This incident has been resolved.", [])])
    await past(EventKind.INCIDENT, "Sign-in failures", 9, 1,
               [(auth, ComponentStatus.FULL_OUTAGE)],
               [(0, EventStatus.INVESTIGATING, "Users cannot sign in.", []),
                (0.5, EventStatus.MONITORING, "An expired certificate was replaced.",
                 [(auth, ComponentStatus.OPERATIONAL)])])
    await past(EventKind.MAINTENANCE, "EU database upgrade", 16, 3,
               [(eu_db, ComponentStatus.UNDER_MAINTENANCE)],
               [(0, EventStatus.IN_PROGRESS, "The upgrade has started.", []),
                (3, EventStatus.COMPLETED, "The upgrade is complete.", [])])
    start = now + timedelta(days=3)
    await schedule_maintenance(
        actor=actor, page_id=page.id, title="Object storage migration",
        message="We will migrate object storage to new hardware; uploads may be slow.",
        scheduled_start=start, scheduled_end=start + timedelta(hours=2),
        component_ids=pick("Object storage"), notify=False,
    )
