"""Maintenance runs itself: the clock is driven through run_due_transitions(now=...)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from models import Event, EventUpdate, ImpactSpan, NotificationJob, User
from models.base import utcnow
from models.enums import ComponentStatus, EventStatus
from resolvers import event as events
from resolvers import maintenance
from resolvers.maintenance import run_due_transitions
from resolvers.status import statuses_at
from tests.helpers.events import EVENT, make_page

OP, UM = ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE
SECOND = timedelta(seconds=1)


async def status_at(page_id: str, ids: dict[str, str], at: datetime) -> dict[str, str]:
    found = await statuses_at([page_id], at)
    return {name: found.get(cid, OP).value for name, cid in ids.items()}


async def schedule(admin: User, **kwargs: Any) -> tuple[Any, Event, dict[str, str]]:
    actor, page, ids = await make_page(admin)
    start = utcnow().replace(microsecond=0) + timedelta(hours=1)
    event = await maintenance.schedule_maintenance(
        actor=actor, page_id=page.id, title="Upgrade", message="Planned.",
        scheduled_start=start, scheduled_end=start + timedelta(hours=2),
        component_ids=[ids["API"], ids["DB"]], **kwargs)
    return actor, event, ids


async def test_maintenance_starts_and_completes_by_itself(admin: User, gql: Any) -> None:
    _, event, ids = await schedule(admin)
    start, end = event.scheduled_start, event.scheduled_end
    assert start is not None and end is not None
    assert await run_due_transitions(start - SECOND) == 0
    assert (await Event.get(id=event.id)).status == EventStatus.SCHEDULED
    assert await ImpactSpan.all().count() == 0
    assert await status_at(event.page_id, ids, start) == {
        "API": "OPERATIONAL", "Web": "OPERATIONAL", "DB": "OPERATIONAL"}

    assert await run_due_transitions(start) == 1
    assert await run_due_transitions(start + SECOND) == 0  # runs once
    assert (await Event.get(id=event.id)).status == EventStatus.IN_PROGRESS
    assert await status_at(event.page_id, ids, start - SECOND) == {
        "API": "OPERATIONAL", "Web": "OPERATIONAL", "DB": "OPERATIONAL"}
    assert await status_at(event.page_id, ids, start) == {
        "API": "UNDER_MAINTENANCE", "Web": "OPERATIONAL", "DB": "UNDER_MAINTENANCE"}

    assert await run_due_transitions(end) == 1
    assert await run_due_transitions(end + timedelta(days=1)) == 0
    assert await status_at(event.page_id, ids, end - SECOND) == {
        "API": "UNDER_MAINTENANCE", "Web": "OPERATIONAL", "DB": "UNDER_MAINTENANCE"}
    assert await status_at(event.page_id, ids, end) == {
        "API": "OPERATIONAL", "Web": "OPERATIONAL", "DB": "OPERATIONAL"}

    spans = await ImpactSpan.all().order_by("component_id")
    assert sorted((s.component_id, s.start, s.end) for s in spans) == sorted(
        [(ids["API"], start, end), (ids["DB"], start, end)])
    read = (await gql(EVENT, {"id": event.id}, token=""))["data"]["event"]
    assert [(u["status"], u["at"], u["notify"]) for u in read["updates"]][1:] == [
        ("IN_PROGRESS", start.isoformat(), True), ("COMPLETED", end.isoformat(), True)]
    assert read["status"] == "COMPLETED" and read["startedAt"] == start.isoformat()
    assert {c["impact"] for c in read["updates"][1]["components"]} == {"UNDER_MAINTENANCE"}
    # Published with notify: the announcement and both automatic transitions notify.
    assert await NotificationJob.all().count() == 3


async def test_a_late_worker_applies_both_transitions_at_their_scheduled_times(
    admin: User,
) -> None:
    _, event, _ = await schedule(admin, notify=False)
    assert event.scheduled_start and event.scheduled_end
    assert await run_due_transitions(event.scheduled_end + timedelta(hours=5)) == 2
    updates = await EventUpdate.filter(event_id=event.id).order_by("at")
    assert [(u.status, u.at, u.automatic) for u in updates][1:] == [
        (EventStatus.IN_PROGRESS, event.scheduled_start, True),
        (EventStatus.COMPLETED, event.scheduled_end, True)]
    # Published without notify: the automatic transitions do not notify either.
    assert await NotificationJob.all().count() == 0
    assert await ImpactSpan.filter(end=event.scheduled_end).count() == 2


async def test_two_workers_apply_each_transition_once(admin: User) -> None:
    _, event, _ = await schedule(admin)
    assert event.scheduled_end is not None
    later = event.scheduled_end + SECOND
    applied = await asyncio.gather(*(run_due_transitions(later) for _ in range(3)))
    assert sum(applied) == 2
    assert await EventUpdate.filter(event_id=event.id).count() == 3


async def test_start_early_extend_and_cancel_by_hand(admin: User) -> None:
    actor, event, ids = await schedule(admin)
    start, end = event.scheduled_start, event.scheduled_end
    assert start is not None and end is not None
    _, update = await events.post_event_update(actor=actor, event_id=event.id,
                                               status=EventStatus.IN_PROGRESS,
                                               message="Starting early.")
    now = update.at
    assert await status_at(event.page_id, ids, now) == {
        "API": "UNDER_MAINTENANCE", "Web": "OPERATIONAL", "DB": "UNDER_MAINTENANCE"}
    assert await run_due_transitions(start) == 0  # already started: never restarted
    later = end + timedelta(hours=1)
    await maintenance.update_maintenance(actor=actor, event_id=event.id, scheduled_end=later)
    assert await run_due_transitions(end) == 0
    assert await run_due_transitions(later) == 1
    assert (await Event.get(id=event.id)).ended_at == later

    second = await maintenance.schedule_maintenance(
        actor=actor, page_id=event.page_id, title="Second", message="m",
        scheduled_start=start + timedelta(days=1), scheduled_end=end + timedelta(days=1),
        component_ids=[ids["Web"]])
    cancelled = await maintenance.cancel_maintenance(actor=actor, event_id=second.id)
    assert cancelled.status == EventStatus.COMPLETED and cancelled.cancelled
    assert cancelled.started_at is None
    assert await run_due_transitions(end + timedelta(days=2)) == 0
    assert await ImpactSpan.filter(event_id=second.id).count() == 0


async def test_the_timer_wakes_for_the_next_transition_and_stops(admin: User) -> None:
    actor, page, ids = await make_page(admin)
    start = utcnow() + timedelta(milliseconds=300)
    event = await maintenance.schedule_maintenance(
        actor=actor, page_id=page.id, title="Quick", message="m", scheduled_start=start,
        scheduled_end=start + timedelta(milliseconds=300), component_ids=[ids["API"]])
    stop = asyncio.Event()
    task = asyncio.create_task(maintenance.run_timer(stop))
    try:
        deadline = asyncio.get_running_loop().time() + 10  # liveness, not performance
        while (await Event.get(id=event.id)).status != EventStatus.COMPLETED:
            assert asyncio.get_running_loop().time() < deadline, "the timer never completed it"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert task.exception() is None
    assert [u.automatic for u in await EventUpdate.filter(event_id=event.id)] == [
        False, True, True]


async def test_manual_maintenance_waits_for_hands_and_replans(admin: User) -> None:
    actor, event, ids = await schedule(admin, auto_start=False, auto_complete=False)
    assert event.scheduled_start is not None and event.scheduled_end is not None
    replanned = await maintenance.update_maintenance(
        actor=actor, event_id=event.id, component_ids=[ids["Web"]],
        scheduled_end=event.scheduled_end + timedelta(hours=1))
    assert replanned.scheduled_end == event.scheduled_end + timedelta(hours=1)
    assert await run_due_transitions(event.scheduled_end + timedelta(days=1)) == 0
    _, update = await events.post_event_update(actor=actor, event_id=event.id,
                                               status=EventStatus.IN_PROGRESS, message="go")
    assert await status_at(event.page_id, ids, update.at) == {
        "API": "OPERATIONAL", "Web": "UNDER_MAINTENANCE", "DB": "OPERATIONAL"}
    assert await run_due_transitions(event.scheduled_end + timedelta(days=1)) == 0
    _, done = await events.post_event_update(actor=actor, event_id=event.id,
                                             status=EventStatus.COMPLETED, message="done")
    assert await status_at(event.page_id, ids, done.at) == {
        "API": "OPERATIONAL", "Web": "OPERATIONAL", "DB": "OPERATIONAL"}
    assert (await Event.get(id=event.id)).ended_at == done.at


async def test_a_hand_start_racing_the_timer_starts_it_once(admin: User) -> None:
    actor, event, _ = await schedule(admin)
    assert event.scheduled_start is not None

    async def by_hand() -> None:
        try:
            await events.post_event_update(actor=actor, event_id=event.id,
                                           status=EventStatus.IN_PROGRESS, message="go")
        except Exception as exc:  # the loser sees a forward-only refusal, nothing else
            assert getattr(exc, "code", None) == "INVALID", exc

    await asyncio.gather(by_hand(), run_due_transitions(event.scheduled_start),
                         run_due_transitions(event.scheduled_start))
    started = await EventUpdate.filter(event_id=event.id, status=EventStatus.IN_PROGRESS)
    assert len([u for u in started if u.automatic]) <= 1 and started
    # Whoever won, each planned component holds one maintenance span, not two.
    assert await ImpactSpan.filter(event_id=event.id).count() == 2
    assert (await Event.get(id=event.id)).status == EventStatus.IN_PROGRESS
    assert await run_due_transitions(event.scheduled_start) == 0
