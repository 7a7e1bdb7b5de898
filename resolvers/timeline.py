"""The steps every event kind shares: checking statuses and impacts, writing an update, locking
and finishing a change (ledger, sequence, outbox, audit). Incidents (`resolvers.event`),
maintenance, retrospective events, revisions, templates and automation build on these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from models import Component, Event, EventComponent, EventUpdate, StatusPage, UpdateImpact
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
from resolvers.sequence import bump

Impact = tuple[str, ComponentStatus]
OPERATIONAL = ComponentStatus.OPERATIONAL


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


async def planned_impacts(event_id: str, conn: BaseDBAsyncClient) -> dict[str,
                                                                           ComponentStatus]:
    """The planned components of a maintenance, UNDER_MAINTENANCE."""
    rows = await EventComponent.filter(event_id=event_id, planned=True).using_db(conn).order_by(
        "position").values_list("component_id", flat=True)
    return {str(cid): ComponentStatus.UNDER_MAINTENANCE for cid in rows}
