"""Events: publish incidents, post updates, retitle and delete events; the steps every event
kind shares are in `resolvers.timeline`.

Decisions (PRODUCT.md §3, §10): an open incident takes any incident status, backwards too;
after RESOLVED only message-only RESOLVED updates or a reopen (a non-final status whose update
restates the impacts: a reopen starts from all OPERATIONAL). A final update may only set
OPERATIONAL impacts. Retrospective events are edited (editEventUpdate), not posted to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise.transactions import in_transaction

from models import Event, EventUpdate, StatusPage
from models.base import utcnow
from models.enums import (
    MAINTENANCE_STATUSES,
    ComponentStatus,
    EventKind,
    EventStatus,
    Role,
)
from resolvers.auth import Actor, can_view
from resolvers.errors import invalid
from resolvers.ledger import rebuild
from resolvers.page import managed_page
from resolvers.sequence import PageChange, announce
from resolvers.template import template_values
from resolvers.timeline import (
    OPERATIONAL,
    Impact,
    affected_ids,
    check_impacts,
    check_status,
    finish,
    locked,
    managed_event,
    message_text,
    not_future,
    planned_impacts,
    title_text,
    touched,
    write_update,
)

# ---- incidents ----------------------------------------------------------------------------


async def create_incident(
    *,
    actor: Actor,
    page_id: str,
    title: str | None = None,
    message: str | None = None,
    status: EventStatus | None = None,
    components: Sequence[Impact] | None = None,
    notify: bool = True,
    template_id: str | None = None,
    started_at: datetime | None = None,
) -> Event:
    """Open an incident (optionally from a template; explicit input wins over it)."""
    page = await managed_page(actor, page_id, Role.EVENT_MANAGEMENT)

    now = utcnow()
    base = await template_values(page.id, EventKind.INCIDENT, template_id)
    status = status or base.status or EventStatus.INVESTIGATING
    check_status(EventKind.INCIDENT, status)
    if status.final:
        raise invalid("An incident cannot open RESOLVED: record a retrospective event", "status")
    title = title_text(title if title else base.title)
    message = message_text(message if message else base.message)
    at = not_future(started_at, "startedAt", now) if started_at is not None else now
    if len({cid for cid, _ in components or ()}) != len(components or ()):
        raise invalid("Each component may appear once", "components")
    merged = dict(base.impacts)
    merged.update(dict(components or ()))
    async with in_transaction() as conn:
        impacts = await check_impacts(page.id, EventKind.INCIDENT, list(merged.items()), at,
                                      conn)
        event = await Event.create(page_id=page.id, kind=EventKind.INCIDENT, status=status,
                                   title=title, started_at=at, notify_auto=notify,
                                   using_db=conn)
        await write_update(event, actor=actor, at=at, status=status, message=message,
                           impacts=impacts, notify=notify, conn=conn)
        await rebuild(event, conn)
        seq = await finish(actor, event, "event.create", conn, kind="INCIDENT")
    await announce(PageChange(page.id, seq, "EVENT_PUBLISHED", event_id=event.id,
                              component_ids=touched(impacts)))
    return event


def check_transition(event: Event, status: EventStatus,
                     impacts: dict[str, ComponentStatus]) -> None:
    """What may follow the event's current status (module docstring; maintenance.py)."""
    check_status(EventKind(event.kind), status)
    current = EventStatus(event.status)
    if status.final and any(i != OPERATIONAL for i in impacts.values()):
        raise invalid("A final update can only return components to OPERATIONAL", "components")
    if current.final and status.final and impacts:
        raise invalid("After the final update only message updates are possible",
                      "components")
    if event.kind == EventKind.INCIDENT:
        return
    order = MAINTENANCE_STATUSES.index
    if current.final and not status.final:
        raise invalid("A completed maintenance is final", "status")
    if order(status) < order(current):
        raise invalid("Maintenance only moves forward", "status")
    if status == EventStatus.SCHEDULED and impacts:
        raise invalid("A scheduled maintenance holds no impacts until it starts", "components")
    if current == EventStatus.SCHEDULED and status == EventStatus.COMPLETED:
        raise invalid("Start the maintenance first, or cancel it", "status")


async def post_event_update(
    *,
    actor: Actor,
    event_id: str,
    status: EventStatus,
    message: str,
    components: Sequence[Impact] | None = None,
    notify: bool = True,
) -> tuple[Event, EventUpdate]:
    """Add an update to an event's timeline: new status, message, impact changes."""
    event = await managed_event(actor, event_id)
    message = message_text(message)
    async with in_transaction() as conn:
        event = await locked(event.id, conn)
        if event.retrospective:
            raise invalid("A retrospective event is edited, not posted to", "eventId")
        last = await EventUpdate.filter(event_id=event.id).using_db(conn).order_by(
            "-at", "-created_at").first()
        at = max(utcnow(), last.at) if last else utcnow()
        impacts = await check_impacts(event.page_id, EventKind(event.kind), components, at,
                                      conn)
        check_transition(event, status, impacts)
        if (event.kind == EventKind.MAINTENANCE and event.status == EventStatus.SCHEDULED
                and status == EventStatus.IN_PROGRESS and not impacts):
            impacts = await planned_impacts(event.id, conn)
        update = await write_update(event, actor=actor, at=at, status=status, message=message,
                                    impacts=impacts, notify=notify, conn=conn)
        changed = await rebuild(event, conn)
        seq = await finish(actor, event, "event.update", conn, status=status.value,
                           update=update.id)
    await announce(PageChange(event.page_id, seq, "EVENT_UPDATED", event_id=event.id,
                              component_ids=touched(changed, impacts)))
    return event, update


async def update_event(*, actor: Actor, event_id: str, title: str) -> Event:
    """Retitle an event."""
    event = await managed_event(actor, event_id, "id")
    title = title_text(title)
    async with in_transaction() as conn:
        event = await locked(event.id, conn)
        event.title = title
        event.updated_at = utcnow()
        await event.save(using_db=conn)
        seq = await finish(actor, event, "event.retitle", conn)
    await announce(PageChange(event.page_id, seq, "EVENT_UPDATED", event_id=event.id))
    return event


async def delete_event(*, actor: Actor, event_id: str) -> str:
    """Delete an event with its updates: it leaves the page and the figures (audited)."""
    event = await managed_event(actor, event_id)
    async with in_transaction() as conn:
        event = await locked(event.id, conn)
        components = await affected_ids(event.id, conn)
        seq = await finish(actor, event, "event.delete", conn, kind=event.kind.value)
        await Event.filter(id=event.id).using_db(conn).delete()
    await announce(PageChange(event.page_id, seq, "EVENT_DELETED", event_id=event.id,
                              component_ids=touched(components)))
    return event.id


# ---- reading --------------------------------------------------------------------------------


async def visible_event(actor: Actor, event_id: str) -> tuple[Event, StatusPage] | None:
    """The event and its page if the actor may see that page; otherwise None."""
    event = await Event.filter(id=event_id).first()
    if event is None:
        return None
    page = await StatusPage.filter(id=event.page_id).first()
    if page is None or not can_view(actor, page):
        return None
    return event, page

