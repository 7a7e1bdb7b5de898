"""Reads behind the Statuspage-compatible JSON, the feeds and the badges: one page's state."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Max

from models import (
    Component,
    ComponentGroup,
    Event,
    EventComponent,
    EventUpdate,
    ImpactSpan,
    StatusPage,
    UpdateImpact,
)
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventStatus, Visibility
from resolvers.auth import ANONYMOUS
from resolvers.page import default_page
from resolvers.status import statuses_at
from settings import get_settings

RECENT = 50  # like Statuspage: the 50 most recent events of a kind, plus every open one


@dataclass(frozen=True)
class PageMeta:
    """What a read needs before touching its cache: identity, visibility and version."""

    id: str
    slug: str
    visibility: Visibility
    sequence: int
    updated_at: datetime
    language: str = "en"  # the page's own language
    allow_visitor_language: bool = True  # whether Accept-Language may pick another one


@dataclass(frozen=True)
class UpdateRow:
    id: str
    at: datetime
    status: EventStatus
    message: str
    notify: bool
    created_at: datetime
    edited_at: datetime | None
    impacts: tuple[tuple[str, ComponentStatus], ...]  # (component id, impact) set by it


@dataclass(frozen=True)
class AffectedRow:
    component_id: str
    impact: ComponentStatus  # the event's current impact on it
    planned: bool


@dataclass(frozen=True)
class EventRow:
    id: str
    kind: EventKind
    status: EventStatus
    title: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    retrospective: bool
    cancelled: bool
    updates: tuple[UpdateRow, ...]  # in time order
    affected: tuple[AffectedRow, ...]

    @property
    def open(self) -> bool:
        return not self.status.final

    @property
    def display_at(self) -> datetime:
        """When it happened (or is planned): the order of histories and feeds."""
        if self.kind == EventKind.MAINTENANCE and self.scheduled_start is not None:
            return self.scheduled_start
        return self.started_at or self.created_at

    @property
    def last_change(self) -> datetime:
        times = [self.updated_at, *(u.at for u in self.updates),
                 *(u.edited_at for u in self.updates if u.edited_at)]
        return max(times)


@dataclass(frozen=True)
class PageSnapshot:
    page: StatusPage
    groups: list[ComponentGroup]
    components: list[Component]  # display order: by group, then position; ungrouped last
    statuses: dict[str, ComponentStatus]  # non-operational components now
    changed_at: dict[str, datetime]  # component id -> its last status change (when known)
    incidents: list[EventRow]  # newest first
    maintenances: list[EventRow]  # newest scheduled start first

    def status_of(self, component_id: str) -> ComponentStatus:
        return self.statuses.get(component_id, ComponentStatus.OPERATIONAL)

    def group_status(self, group_id: str) -> ComponentStatus:
        members = [self.status_of(c.id) for c in self.components if c.group_id == group_id]
        return ComponentStatus.worst(members)

    def page_status(self) -> ComponentStatus:
        return ComponentStatus.worst(list(self.statuses.values()))


def _meta(row: dict[str, object]) -> PageMeta:
    updated = row["updated_at"]
    assert isinstance(updated, datetime)
    return PageMeta(
        id=str(row["id"]), slug=str(row["slug"]), visibility=Visibility(row["visibility"]),
        sequence=int(str(row["sequence"])), updated_at=updated,
        language=str(row.get("language") or "en"),
        allow_visitor_language=bool(row.get("allow_visitor_language", True)),
    )


async def page_meta(*, slug: str) -> PageMeta | None:
    """The page's identity, visibility and sequence, by slug (one small query)."""
    rows = await StatusPage.filter(slug=slug).values(
        "id", "slug", "visibility", "sequence", "updated_at", "language",
        "allow_visitor_language",
    )
    return _meta(rows[0]) if rows else None


async def default_slug() -> str | None:
    """The slug served at `/api/v2/…`: DEFAULT_PAGE, else the first public page by position.

    Visibility is checked by the caller per request, as for `/p/{slug}`; so this equals
    `resolvers.page.default_page(actor)` for every actor."""
    configured = get_settings().default_page
    if configured:
        return configured
    page = await default_page(ANONYMOUS)
    return page.slug if page is not None else None


def _display_order(groups: list[ComponentGroup], components: list[Component]
                   ) -> list[Component]:
    rank = {g.id: index for index, g in enumerate(groups)}
    return sorted(components, key=lambda c: (rank.get(c.group_id or "", len(groups)),
                                             c.position, c.created_at))


async def _changed_at(page_id: str) -> dict[str, datetime]:
    now = utcnow()
    rows = await ImpactSpan.filter(page_id=page_id).annotate(
        last_start=Max("start"), last_end=Max("end")
    ).group_by("component_id").values("component_id", "last_start", "last_end")
    result: dict[str, datetime] = {}
    for row in rows:
        times = [t for t in (row["last_start"], row["last_end"])
                 if isinstance(t, datetime) and t <= now]
        if times:
            result[str(row["component_id"])] = max(times)
    return result


async def _events(page_id: str, kind: EventKind) -> list[EventRow]:
    recent = await Event.filter(page_id=page_id, kind=kind).order_by("-created_at").limit(RECENT)
    final = [EventStatus.RESOLVED, EventStatus.COMPLETED]
    still_open = await Event.filter(page_id=page_id, kind=kind).exclude(status__in=final)
    events = {e.id: e for e in [*recent, *still_open]}
    if not events:
        return []
    ids = list(events)
    updates = await EventUpdate.filter(event_id__in=ids).order_by("at", "created_at", "id")
    impacts: dict[str, list[tuple[str, ComponentStatus]]] = defaultdict(list)
    for update_id, component_id, impact in await UpdateImpact.filter(
        update__event_id__in=ids
    ).values_list("update_id", "component_id", "impact"):
        impacts[str(update_id)].append((str(component_id), ComponentStatus(impact)))
    by_event: dict[str, list[UpdateRow]] = defaultdict(list)
    for u in updates:
        by_event[u.event_id].append(UpdateRow(
            id=u.id, at=u.at, status=EventStatus(u.status), message=u.message,
            notify=u.notify, created_at=u.created_at, edited_at=u.edited_at,
            impacts=tuple(impacts.get(u.id, ())),
        ))
    affected: dict[str, list[AffectedRow]] = defaultdict(list)
    for ec in await EventComponent.filter(event_id__in=ids).order_by("position", "id"):
        affected[ec.event_id].append(AffectedRow(ec.component_id, ComponentStatus(ec.impact),
                                                 ec.planned))
    return [
        EventRow(
            id=e.id, kind=EventKind(e.kind), status=EventStatus(e.status), title=e.title,
            created_at=e.created_at, updated_at=e.updated_at, started_at=e.started_at,
            ended_at=e.ended_at, scheduled_start=e.scheduled_start,
            scheduled_end=e.scheduled_end, retrospective=e.retrospective,
            cancelled=e.cancelled, updates=tuple(by_event.get(e.id, ())),
            affected=tuple(affected.get(e.id, ())),
        )
        for e in events.values()
    ]


async def snapshot(*, page_id: str) -> PageSnapshot | None:
    """Everything the Statuspage JSON, feeds and badges of one page show, read now."""
    page = await StatusPage.filter(id=page_id).first()
    if page is None:
        return None
    groups = await ComponentGroup.filter(page_id=page_id).order_by("position", "created_at")
    components = await Component.filter(page_id=page_id).order_by("position", "created_at")
    statuses = await statuses_at([page_id])
    incidents = await _events(page_id, EventKind.INCIDENT)
    maintenances = await _events(page_id, EventKind.MAINTENANCE)
    incidents.sort(key=lambda e: (e.display_at, e.created_at), reverse=True)
    maintenances.sort(key=lambda e: (e.display_at, e.created_at), reverse=True)
    return PageSnapshot(
        page=page, groups=list(groups), components=_display_order(list(groups),
                                                                  list(components)),
        statuses=statuses, changed_at=await _changed_at(page_id),
        incidents=incidents, maintenances=maintenances,
    )
