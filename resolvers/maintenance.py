"""Maintenance: schedule, reschedule or extend, cancel; and the timer that runs it by itself.

Automatic transitions carry the scheduled time as their `at` (never earlier than the event's
last update), only move forward, run once even when late, and are claimed with a conditional
UPDATE on the event's status so two workers never both apply one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import Event, EventComponent, EventUpdate
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventStatus, Role
from resolvers import validate
from resolvers.auth import Actor
from resolvers.errors import invalid
from resolvers.ledger import rebuild
from resolvers.page import KEEP, Keep, managed_page
from resolvers.sequence import PageChange, announce
from resolvers.template import template_values
from resolvers.timeline import (
    affected_ids,
    check_impacts,
    finish,
    locked,
    managed_event,
    message_text,
    planned_impacts,
    title_text,
    touched,
    write_update,
)

log = logging.getLogger("heliograph.maintenance")
SYSTEM = Actor(via="timer")
START_MESSAGE = "The scheduled maintenance has started."
COMPLETE_MESSAGE = "The scheduled maintenance has been completed."
CANCEL_MESSAGE = "The scheduled maintenance has been cancelled."
SCHEDULE_MESSAGE = "Maintenance is scheduled."


def _window(start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    start = validate.aware(start, "scheduledStart")
    end = validate.aware(end, "scheduledEnd")
    if start < now:
        raise invalid("The scheduled start cannot be in the past", "scheduledStart")
    if end <= start:
        raise invalid("The scheduled end must come after the scheduled start", "scheduledEnd")
    return start, end


async def schedule_maintenance(
    *,
    actor: Actor,
    page_id: str,
    scheduled_start: datetime,
    scheduled_end: datetime,
    title: str | None = None,
    message: str | None = None,
    component_ids: Sequence[str] | None = None,
    notify: bool = True,
    auto_start: bool = True,
    auto_complete: bool = True,
    template_id: str | None = None,
) -> Event:
    """Announce a maintenance window with its planned components."""
    page = await managed_page(actor, page_id, Role.EVENT_MANAGEMENT)

    now = utcnow()
    base = await template_values(page.id, EventKind.MAINTENANCE, template_id)
    title = title_text(title if title else base.title)
    message = message_text(message if message else (base.message or SCHEDULE_MESSAGE))
    start, end = _window(scheduled_start, scheduled_end, now)
    ids = list(component_ids) if component_ids is not None else list(base.impacts)
    async with in_transaction() as conn:
        # Planned components are checked as impacts at the start (kind, page, since).
        await check_impacts(page.id, EventKind.MAINTENANCE,
                            [(c, ComponentStatus.UNDER_MAINTENANCE) for c in ids], start, conn,
                            field="componentIds")
        event = await Event.create(
            page_id=page.id, kind=EventKind.MAINTENANCE, status=EventStatus.SCHEDULED,
            title=title, scheduled_start=start, scheduled_end=end, auto_start=auto_start,
            auto_complete=auto_complete, notify_auto=notify, using_db=conn,
        )
        await _plan(event, ids, conn)
        await write_update(event, actor=actor, at=now, status=EventStatus.SCHEDULED,
                           message=message, impacts={}, notify=notify, conn=conn)
        await rebuild(event, conn)
        seq = await finish(actor, event, "event.create", conn, kind="MAINTENANCE")
    await announce(PageChange(page.id, seq, "EVENT_PUBLISHED", event_id=event.id,
                              component_ids=touched(ids)))
    return event


async def _plan(event: Event, ids: Sequence[str], conn: BaseDBAsyncClient) -> None:
    """Replace the planned set (rebuild() then orders and fills in the impacts)."""
    await EventComponent.filter(event_id=event.id, planned=True).using_db(conn).delete()
    for index, cid in enumerate(ids):
        await EventComponent.create(event_id=event.id, component_id=cid, planned=True,
                                    impact=ComponentStatus.UNDER_MAINTENANCE, position=index,
                                    using_db=conn)


async def update_maintenance(
    *,
    actor: Actor,
    event_id: str,
    scheduled_start: datetime | Keep = KEEP,
    scheduled_end: datetime | Keep = KEEP,
    auto_start: bool | Keep = KEEP,
    auto_complete: bool | Keep = KEEP,
    component_ids: Sequence[str] | Keep | None = KEEP,
) -> Event:
    """Reschedule (while SCHEDULED), extend or shorten the end (until COMPLETED), change the
    automatic transitions or (while SCHEDULED) the planned components."""
    event = await managed_event(actor, event_id)
    now = utcnow()
    async with in_transaction() as conn:
        event = await locked(event.id, conn)
        scheduled = _still_editable(event)
        changes, start = _new_schedule(event, scheduled, scheduled_start, scheduled_end, now)
        if auto_start is not KEEP and auto_start is not None:
            changes["auto_start"] = auto_start
        if auto_complete is not KEEP and auto_complete is not None:
            changes["auto_complete"] = auto_complete
        ids: list[str] = []
        if component_ids is not KEEP and component_ids is not None:
            ids = await _replan(event, scheduled, component_ids, start, conn)
        for key, value in changes.items():
            setattr(event, key, value)
        await event.save(using_db=conn)
        await rebuild(event, conn)
        seq = await finish(actor, event, "maintenance.update", conn,
                           changes=sorted(changes) + (["componentIds"] if ids else []))
    await announce(PageChange(event.page_id, seq, "EVENT_UPDATED", event_id=event.id,
                              component_ids=touched(ids)))
    return event


def _still_editable(event: Event) -> bool:
    """Refuse an incident or a completed maintenance; whether it has yet to start."""
    if event.kind != EventKind.MAINTENANCE:
        raise invalid("Only maintenance has a schedule", "eventId")
    status = EventStatus(event.status)
    if status.final:
        raise invalid("A completed maintenance is final", "eventId")
    return status == EventStatus.SCHEDULED


def _new_schedule(event: Event, scheduled: bool, scheduled_start: datetime | Keep | None,
                  scheduled_end: datetime | Keep | None, now: datetime
                  ) -> tuple[dict[str, Any], datetime]:
    """The checked new start (only before it) and end (in the future, after the start), and
    the start as it will be."""
    changes: dict[str, Any] = {}
    if scheduled_start is not KEEP and scheduled_start is not None:
        if not scheduled:
            raise invalid("The maintenance has started", "scheduledStart")
        new_start = validate.aware(scheduled_start, "scheduledStart")
        if new_start < now:
            raise invalid("The scheduled start cannot be in the past", "scheduledStart")
        changes["scheduled_start"] = new_start
    start: datetime | None = changes.get("scheduled_start", event.scheduled_start)
    assert start is not None
    if scheduled_end is not KEEP and scheduled_end is not None:
        new_end = validate.aware(scheduled_end, "scheduledEnd")
        if new_end <= now:
            raise invalid("The new end must be in the future", "scheduledEnd")
        changes["scheduled_end"] = new_end
    end: datetime | None = changes.get("scheduled_end", event.scheduled_end)
    if end is None or end <= start:
        raise invalid("The scheduled end must come after the scheduled start", "scheduledEnd")
    return changes, start


async def _replan(event: Event, scheduled: bool, component_ids: Sequence[str], start: datetime,
                  conn: BaseDBAsyncClient) -> list[str]:
    """Replace the planned components (before the start); the ids touched, old and new."""
    if not scheduled:
        raise invalid("The maintenance has started: post an update", "componentIds")
    ids = list(component_ids)
    await check_impacts(event.page_id, EventKind.MAINTENANCE,
                        [(c, ComponentStatus.UNDER_MAINTENANCE) for c in ids], start,
                        conn, field="componentIds")
    before = {r.component_id for r in
              await EventComponent.filter(event_id=event.id).using_db(conn)}
    ids = list(dict.fromkeys(ids))
    await _plan(event, ids, conn)
    return [*ids, *before]


async def cancel_maintenance(*, actor: Actor, event_id: str, message: str | None = None,
                             notify: bool = True) -> Event:
    """Cancel before the start: COMPLETED with cancelled=true and no maintenance time."""
    event = await managed_event(actor, event_id)
    text = message_text(message or CANCEL_MESSAGE)
    async with in_transaction() as conn:
        event = await locked(event.id, conn)
        if event.kind != EventKind.MAINTENANCE:
            raise invalid("Only maintenance can be cancelled", "eventId")
        if event.status != EventStatus.SCHEDULED:
            raise invalid("Only a maintenance that has not started can be cancelled", "eventId")
        last = await EventUpdate.filter(event_id=event.id).using_db(conn).order_by(
            "-at", "-created_at").first()
        at = max(utcnow(), last.at) if last else utcnow()
        event.cancelled = True
        planned = await affected_ids(event.id, conn)
        await write_update(event, actor=actor, at=at, status=EventStatus.COMPLETED,
                           message=text, impacts={}, notify=notify, conn=conn)
        await rebuild(event, conn)
        seq = await finish(actor, event, "maintenance.cancel", conn)
    await announce(PageChange(event.page_id, seq, "EVENT_UPDATED", event_id=event.id,
                              component_ids=touched(planned)))
    return event


# ---- the timer ----------------------------------------------------------------------------


async def _transition(event_id: str, *, to: EventStatus, now: datetime) -> PageChange | None:
    """Apply one due transition if this process wins the claim; None when nothing to do."""
    source = EventStatus.SCHEDULED if to == EventStatus.IN_PROGRESS else EventStatus.IN_PROGRESS
    async with in_transaction() as conn:
        # The claim: only one worker turns the status; the loser's UPDATE matches no row.
        won = await Event.filter(id=event_id, status=source).using_db(conn).update(
            status=to, updated_at=now)
        if not won:
            return None
        event = await Event.filter(id=event_id).using_db(conn).get()
        due = event.scheduled_start if to == EventStatus.IN_PROGRESS else event.scheduled_end
        assert due is not None
        last = await EventUpdate.filter(event_id=event.id).using_db(conn).order_by(
            "-at", "-created_at").first()
        at = max(due, last.at) if last else due
        impacts = await planned_impacts(event.id, conn) if to == EventStatus.IN_PROGRESS else {}
        message = START_MESSAGE if to == EventStatus.IN_PROGRESS else COMPLETE_MESSAGE
        await write_update(event, actor=None, at=at, status=to, message=message,
                           impacts=impacts, notify=event.notify_auto, conn=conn,
                           automatic=True)
        changed = await rebuild(event, conn)
        seq = await finish(SYSTEM, event, "maintenance.auto", conn, status=to.value)
    return PageChange(event.page_id, seq, "EVENT_UPDATED", event_id=event.id,
                      component_ids=touched(changed, impacts))


async def run_due_transitions(now: datetime | None = None) -> int:
    """Start and complete every maintenance due at `now` (default: the clock); the number of
    transitions this call applied."""
    now = now or utcnow()
    applied = 0
    base = Event.filter(kind=EventKind.MAINTENANCE)
    starts = await base.filter(status=EventStatus.SCHEDULED, auto_start=True,
                               scheduled_start__lte=now).order_by("scheduled_start")
    for event in starts:
        change = await _transition(event.id, to=EventStatus.IN_PROGRESS, now=now)
        if change is not None:
            applied += 1
            await announce(change)
    # After the starts, so a maintenance missed entirely (worker down) also completes.
    ends = await base.filter(status=EventStatus.IN_PROGRESS, auto_complete=True,
                             scheduled_end__lte=now).order_by("scheduled_end")
    for event in ends:
        change = await _transition(event.id, to=EventStatus.COMPLETED, now=now)
        if change is not None:
            applied += 1
            await announce(change)
    return applied


async def next_due(now: datetime) -> datetime | None:
    """The earliest future automatic transition, if any."""
    base = Event.filter(kind=EventKind.MAINTENANCE)
    start = await base.filter(status=EventStatus.SCHEDULED, auto_start=True).order_by(
        "scheduled_start").first()
    end = await base.filter(status=EventStatus.IN_PROGRESS, auto_complete=True).order_by(
        "scheduled_end").first()
    times = [t for t in (start and start.scheduled_start, end and end.scheduled_end) if t]
    return min(times) if times else None


POLL_SECONDS = 15.0


async def run_timer(stop: asyncio.Event) -> None:
    """Apply due transitions until `stop` is set; wakes at the next due time (or every
    POLL_SECONDS, to notice schedules made by other processes)."""
    while not stop.is_set():
        delay = POLL_SECONDS
        try:
            now = utcnow()
            await run_due_transitions(now)
            upcoming = await next_due(now)
            if upcoming is not None:
                delay = min(POLL_SECONDS, max(0.2, (upcoming - utcnow()).total_seconds()))
        except Exception:
            log.exception("maintenance timer round failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
        except TimeoutError:
            pass
