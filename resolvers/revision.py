"""Editing history: an update's message (any event; never notifies again), its time and
impacts (retrospective events only), and deleting an update. The ledger follows every edit.

Decisions: an event's first update (its opening) cannot be deleted — delete the event; nor can
a retrospective event's final update (it marks `endedAt`, which stays fixed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import Event, EventUpdate, UpdateImpact
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventStatus, Role
from resolvers import validate
from resolvers.auth import Actor, require_authenticated, require_role
from resolvers.errors import DomainError, invalid, not_found
from resolvers.ledger import rebuild
from resolvers.page import KEEP, Keep
from resolvers.retrospective import check_timeline
from resolvers.sequence import PageChange, announce
from resolvers.timeline import check_impacts, finish, locked, message_text, touched

Impact = tuple[str, ComponentStatus]


async def _managed_update(actor: Actor, update_id: str) -> tuple[EventUpdate, Event]:
    update = await EventUpdate.filter(id=update_id).first()
    event = await Event.filter(id=update.event_id).first() if update else None
    if update is None or event is None:
        require_authenticated(actor)
        raise not_found("Update", "id")
    require_role(actor, Role.EVENT_MANAGEMENT, event.page_id)
    return update, event


async def _timeline(event_id: str, conn: BaseDBAsyncClient) -> list[EventUpdate]:
    return list(await EventUpdate.filter(event_id=event_id).using_db(conn).order_by(
        "at", "created_at", "id"))


async def edit_event_update(
    *,
    actor: Actor,
    update_id: str,
    message: str | Keep = KEEP,
    at: datetime | Keep = KEEP,
    components: Sequence[Impact] | Keep | None = KEEP,
) -> tuple[Event, EventUpdate]:
    """Edit an update: its message; on retrospective events also its time and impacts
    (`components` then replaces the impacts that update set)."""
    update, event = await _managed_update(actor, update_id)
    text = message_text(message) if message is not KEEP else None
    moved = at is not KEEP and at is not None
    reimpact = components is not KEEP and components is not None
    if (moved or reimpact) and not event.retrospective:
        raise invalid("Only a retrospective event's updates can change time or impacts",
                      "at" if moved else "components")
    async with in_transaction() as conn:
        event = await locked(event.id, conn)
        update = await EventUpdate.filter(id=update.id).using_db(conn).get()
        timeline = await _timeline(event.id, conn)
        index = next(i for i, u in enumerate(timeline) if u.id == update.id)
        changed: set[str] = set()
        named: dict[str, ComponentStatus] = {}
        if moved:
            assert isinstance(at, datetime)
            update.at = _moved_to(event, update, timeline, at)
        opened_at = event.started_at if index == 0 and event.started_at else update.at
        if reimpact:
            assert components is not None and not isinstance(components, Keep)
            named, old = await _replace_impacts(event, update, components, opened_at, conn)
            changed.update(old)
        elif moved:
            own = await UpdateImpact.filter(update_id=update.id).using_db(conn)
            await check_impacts(event.page_id, EventKind(event.kind),
                                [(r.component_id, ComponentStatus(r.impact)) for r in own],
                                opened_at, conn, field="at")
        if text is not None:
            update.message = text
        update.edited_at = utcnow()
        await update.save(using_db=conn)
        changed |= await rebuild(event, conn)
        seq = await finish(actor, event, "update.edit", conn, update=update.id)
    await announce(PageChange(event.page_id, seq, "EVENT_UPDATED", event_id=event.id,
                              component_ids=touched(changed, named)))
    return event, update


def _moved_to(event: Event, update: EventUpdate, timeline: list[EventUpdate],
              at: datetime) -> datetime:
    """The update's checked new time: the final update stays at endedAt, and the timeline
    must still read in order."""
    when = validate.aware(at, "at")
    if EventStatus(update.status).final and when != update.at:
        raise invalid("The final update stays at endedAt", "at")
    assert event.started_at is not None and event.ended_at is not None
    items = [(when if u.id == update.id else u.at, EventStatus(u.status)) for u in timeline]
    try:
        check_timeline(EventKind(event.kind), event.started_at, event.ended_at, items)
    except DomainError as exc:
        raise invalid(exc.message, "at") from None
    return when


async def _replace_impacts(event: Event, update: EventUpdate, components: Sequence[Impact],
                           at: datetime, conn: BaseDBAsyncClient
                           ) -> tuple[dict[str, ComponentStatus], list[str]]:
    """Replace the impacts the update sets (checked as of `at`); the new ones and the
    components the old ones named."""
    named = await check_impacts(event.page_id, EventKind(event.kind), components, at, conn)
    if EventStatus(update.status).final and any(
            i != ComponentStatus.OPERATIONAL for i in named.values()):
        raise invalid("A final update can only return components to OPERATIONAL",
                      "components")
    old = await UpdateImpact.filter(update_id=update.id).using_db(conn).values_list(
        "component_id", flat=True)
    await UpdateImpact.filter(update_id=update.id).using_db(conn).delete()
    if named:
        await UpdateImpact.bulk_create(
            [UpdateImpact(update_id=update.id, component_id=c, impact=i)
             for c, i in named.items()], using_db=conn)
    return named, [str(c) for c in old]


async def delete_event_update(*, actor: Actor, update_id: str) -> Event:
    """Delete one update (audited); the event and the figures are re-derived without it."""
    update, event = await _managed_update(actor, update_id)
    async with in_transaction() as conn:
        event = await locked(event.id, conn)
        timeline = await _timeline(event.id, conn)
        if timeline[0].id == update.id:
            raise invalid("The first update opens the event: delete the event instead", "id")
        if event.retrospective and update.id == timeline[-1].id:
            raise invalid("A retrospective event keeps its final update", "id")
        await UpdateImpact.filter(update_id=update.id).using_db(conn).delete()
        await EventUpdate.filter(id=update.id).using_db(conn).delete()
        changed = await rebuild(event, conn)
        seq = await finish(actor, event, "update.delete", conn, update=update.id,
                           status=update.status.value, message=update.message[:200])
    await announce(PageChange(event.page_id, seq, "EVENT_UPDATED", event_id=event.id,
                              component_ids=touched(changed)))
    return event
