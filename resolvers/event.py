"""Events: publish incidents, post updates, retitle and delete events; the shared write steps.

Decisions (PRODUCT.md §3, §10): an open incident takes any incident status, backwards too;
after RESOLVED only message-only RESOLVED updates or a reopen (a non-final status whose update
restates the impacts: a reopen starts from all OPERATIONAL). A final update may only set
OPERATIONAL impacts. Retrospective events are edited (editEventUpdate), not posted to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import Component, Event, EventComponent, EventUpdate, StatusPage, UpdateImpact
from models.base import utcnow
from models.enums import (
    INCIDENT_IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_IMPACTS,
    MAINTENANCE_STATUSES,
    ComponentStatus,
    EventKind,
    EventStatus,
    Role,
)
from notifications import outbox
from resolvers import audit, validate
from resolvers.auth import Actor, require_authenticated, require_role
from resolvers.errors import BEFORE_SINCE, DomainError, invalid, not_found
from resolvers.ledger import rebuild
from resolvers.page import managed_page
from resolvers.sequence import PageChange, announce, bump

Impact = tuple[str, ComponentStatus]
OPERATIONAL = ComponentStatus.OPERATIONAL


# ---- shared steps ---------------------------------------------------------------------------


def check_status(kind: EventKind, status: EventStatus, field: str = "status") -> None:
    """Incident statuses only on incidents, maintenance statuses only on maintenance."""
    allowed = INCIDENT_STATUSES if kind == EventKind.INCIDENT else MAINTENANCE_STATUSES
    if status not in allowed:
        raise invalid(f"{status.value} is not a status of {kind.value.lower()}s", field)


async def check_impacts(page_id: str, kind: EventKind, impacts: Sequence[Impact] | None,
                        at: datetime, conn: BaseDBAsyncClient | None = None,
                        field: str = "components") -> dict[str, ComponentStatus]:
    """Validate impacts (kind, page, duplicates, `since`); return them as a dict in order."""
    result: dict[str, ComponentStatus] = {}
    allowed = INCIDENT_IMPACTS if kind == EventKind.INCIDENT else MAINTENANCE_IMPACTS
    for cid, impact in impacts or ():
        if cid in result:
            raise invalid("Each component may appear once", field)
        if impact not in allowed:
            raise invalid(f"{impact.value} is not an impact of {kind.value.lower()}s", field)
        result[cid] = impact
    if not result:
        return result
    rows = await Component.filter(id__in=list(result), page_id=page_id).using_db(conn)
    if len(rows) != len(result):
        raise invalid("Every component must belong to the event's page", field)
    for row in rows:
        if row.since > at:
            page = await StatusPage.filter(id=page_id).using_db(conn).first()
            zone = page.time_zone if page is not None else "UTC"
            raise DomainError(
                BEFORE_SINCE,
                f"{row.name} is counted from {validate.local_words(row.since, zone)}: no impact "
                f"before that. Move its \"counted from\" date earlier in the console "
                f"(Components → {row.name}) or start the event later.",
                field,
            )
    return result


def message_text(value: str | None, field: str = "message") -> str:
    return validate.text(value, field, maximum=validate.MESSAGE_MAX)


def title_text(value: str | None, field: str = "title") -> str:
    return validate.text(value, field, maximum=validate.TITLE_MAX)


def not_future(value: datetime, field: str, now: datetime) -> datetime:
    value = validate.aware(value, field)
    if value > now:
        raise invalid(f"{field} cannot be in the future", field)
    return value


async def write_update(event: Event, *, actor: Actor | None, at: datetime, status: EventStatus,
                       message: str, impacts: dict[str, ComponentStatus], notify: bool,
                       conn: BaseDBAsyncClient, automatic: bool = False) -> EventUpdate:
    """Insert one update and its impacts; enqueue its notification when it notifies."""
    update = await EventUpdate.create(
        event_id=event.id, at=at, status=status, message=message, notify=notify,
        automatic=automatic, author_id=actor.user_id if actor else None, using_db=conn,
    )
    if impacts:
        await UpdateImpact.bulk_create(
            [UpdateImpact(update_id=update.id, component_id=cid, impact=impact)
             for cid, impact in impacts.items()],
            using_db=conn,
        )
    if notify:
        await outbox.enqueue(update, event.page_id, conn)
    return update


async def finish(actor: Actor, event: Event, action: str, conn: BaseDBAsyncClient,
                 **detail: object) -> int:
    """Audit the change and bump the page's sequence (inside the transaction)."""
    await audit.record(actor, action, target_type="event", target_id=event.id,
                       page_id=event.page_id, detail={"title": event.title, **detail},
                       conn=conn)
    return await bump(event.page_id, conn)


async def affected_ids(event_id: str, conn: BaseDBAsyncClient | None = None) -> set[str]:
    rows = await EventComponent.filter(event_id=event_id).using_db(conn).values_list(
        "component_id", flat=True
    )
    return {str(r) for r in rows}


async def managed_event(actor: Actor, event_id: str, field: str = "eventId") -> Event:
    """Load an event for a management action: authorise on its page, else NOT_FOUND."""
    event = await Event.filter(id=event_id).first()
    if event is None:
        require_authenticated(actor)
        raise not_found("Event", field)
    require_role(actor, Role.EVENT_MANAGEMENT, event.page_id)
    return event


async def locked(event_id: str, conn: BaseDBAsyncClient) -> Event:
    """Re-read the event inside the transaction, locking its row where the database can."""
    event = await Event.filter(id=event_id).using_db(conn).select_for_update().first()
    if event is None:
        raise not_found("Event", "eventId")
    return event


def touched(*groups: Iterable[str]) -> tuple[str, ...]:
    """The components a change touched, for PageChange.component_ids."""
    found: set[str] = set()
    for group in groups:
        found.update(group)
    return tuple(sorted(found))


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
    from resolvers.template import template_values

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


async def planned_impacts(event_id: str, conn: BaseDBAsyncClient) -> dict[str,
                                                                           ComponentStatus]:
    """The planned components of a maintenance, UNDER_MAINTENANCE."""
    rows = await EventComponent.filter(event_id=event_id, planned=True).using_db(conn).order_by(
        "position").values_list("component_id", flat=True)
    return {str(cid): ComponentStatus.UNDER_MAINTENANCE for cid in rows}


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
    from resolvers.auth import can_view

    event = await Event.filter(id=event_id).first()
    if event is None:
        return None
    page = await StatusPage.filter(id=event.page_id).first()
    if page is None or not can_view(actor, page):
        return None
    return event, page


from resolvers.history import demo_history  # noqa: E402  (re-exported for resolvers/demo.py)

__all__ = ["demo_history"]
