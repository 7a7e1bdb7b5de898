"""Retrospective events: what happened in the past, recorded with explicit times.

Decisions: statuses are active or final (no SCHEDULED); a final status only as the last
update, and then exactly at `endedAt` (otherwise a final update is added there); the
event-level components are the impacts from `startedAt` (merged into the first update, whose
own impacts win); retrospective events never notify."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.transactions import in_transaction

from models import Event
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventStatus, Role
from resolvers import validate
from resolvers.auth import Actor
from resolvers.errors import invalid
from resolvers.ledger import rebuild
from resolvers.page import managed_page
from resolvers.sequence import PageChange, announce
from resolvers.timeline import (
    Impact,
    check_impacts,
    check_status,
    finish,
    message_text,
    title_text,
    touched,
    write_update,
)

FINAL_MESSAGES = {
    EventKind.INCIDENT: "This incident has been resolved.",
    EventKind.MAINTENANCE: "The maintenance has been completed.",
}


@dataclass(frozen=True)
class RetroUpdate:
    at: datetime
    status: EventStatus
    message: str
    components: Sequence[Impact] = field(default_factory=tuple)


def final_status(kind: EventKind) -> EventStatus:
    return EventStatus.RESOLVED if kind == EventKind.INCIDENT else EventStatus.COMPLETED


def check_timeline(kind: EventKind, started_at: datetime, ended_at: datetime,
                   items: Sequence[tuple[datetime, EventStatus]]) -> None:
    """Order, bounds and statuses of a retrospective timeline (field `updates`)."""
    if not items:
        raise invalid("A retrospective event needs at least one update", "updates")
    previous: datetime | None = None
    for index, (at, status) in enumerate(items):
        check_status(kind, status, "updates")
        if status == EventStatus.SCHEDULED:
            raise invalid("A retrospective event has no SCHEDULED status", "updates")
        if status.final and index != len(items) - 1:
            raise invalid("Only the last update may be final", "updates")
        if status.final and at != ended_at:
            raise invalid("The final update must be at endedAt", "updates")
        if at < started_at or at > ended_at:
            raise invalid("Every update must lie within [startedAt, endedAt]", "updates")
        if previous is not None and at <= previous:
            raise invalid("Updates must be in strictly increasing time order", "updates")
        previous = at


async def create_retrospective_event(
    *,
    actor: Actor,
    page_id: str,
    kind: EventKind,
    title: str,
    started_at: datetime,
    ended_at: datetime,
    components: Sequence[Impact],
    updates: Sequence[RetroUpdate],
) -> Event:
    """Record a past incident or maintenance with its own timeline (never notifies)."""
    page = await managed_page(actor, page_id, Role.EVENT_MANAGEMENT)
    now = utcnow()
    title = title_text(title)
    started_at = validate.aware(started_at, "startedAt")
    ended_at = validate.aware(ended_at, "endedAt")
    if ended_at > now:
        raise invalid("endedAt cannot be in the future", "endedAt")
    if ended_at <= started_at:
        raise invalid("endedAt must come after startedAt", "endedAt")
    items = [(validate.aware(u.at, "updates"), u.status) for u in updates]
    check_timeline(kind, started_at, ended_at, items)
    messages = [message_text(u.message, "updates") for u in updates]
    final = final_status(kind)
    async with in_transaction() as conn:
        initial = await check_impacts(page.id, kind, components, started_at, conn)
        steps: list[dict[str, ComponentStatus]] = []
        for (at, status), update in zip(items, updates, strict=True):
            impacts = await check_impacts(page.id, kind, update.components, at, conn)
            if status.final and any(i != ComponentStatus.OPERATIONAL for i in impacts.values()):
                raise invalid("A final update can only return components to OPERATIONAL",
                              "updates")
            steps.append(impacts)
        steps[0] = {**initial, **steps[0]}
        event = await Event.create(
            page_id=page.id, kind=kind, status=final, title=title, started_at=started_at,
            ended_at=ended_at, retrospective=True, notify_auto=False, auto_start=False,
            auto_complete=False, using_db=conn,
            **({"scheduled_start": started_at, "scheduled_end": ended_at}
               if kind == EventKind.MAINTENANCE else {}),
        )
        for (at, status), message, impacts in zip(items, messages, steps, strict=True):
            await write_update(event, actor=actor, at=at, status=status, message=message,
                               impacts=impacts, notify=False, conn=conn)
        if not items[-1][1].final:
            await write_update(event, actor=actor, at=ended_at, status=final,
                               message=FINAL_MESSAGES[kind], impacts={}, notify=False,
                               conn=conn)
        changed = await rebuild(event, conn)
        seq = await finish(actor, event, "event.create", conn, kind=kind.value,
                           retrospective=True)
    await announce(PageChange(page.id, seq, "EVENT_PUBLISHED", event_id=event.id,
                              component_ids=touched(changed, *steps)))
    return event
