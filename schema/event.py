"""Events: types, `event(id)` and `page.events`; the mutations live in
schema/event_mutations.py."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import Component, Event, EventUpdate, StatusPage
from resolvers import history
from resolvers.event import visible_event
from schema.base import ComponentStatus, EventKind, EventState, EventStatus
from schema.context import Info

if TYPE_CHECKING:
    from schema.component import ComponentType
    from schema.page import StatusPageType


async def _page(info: Info, page: StatusPage | None, page_id: str) -> StatusPage:
    if page is not None:
        return page
    found = await info.context.loaders.page_by_id.load(page_id)
    assert found is not None
    return found


@strawberry.type
class ComponentImpact:
    impact: ComponentStatus
    component: Annotated[ComponentType, strawberry.lazy("schema.component")]

    @classmethod
    def build(cls, component: Component, impact: ComponentStatus,
              page: StatusPage) -> ComponentImpact:
        from schema.component import ComponentType

        return cls(impact=impact, component=ComponentType.from_model(component, page))


@strawberry.type(name="EventUpdate")
class EventUpdateType:
    id: strawberry.ID
    at: datetime
    status: EventStatus
    message: str = strawberry.field(description="Markdown (render it safely).")
    notify: bool = strawberry.field(description="Whether subscribers were notified.")
    automatic: bool = strawberry.field(
        description="Posted by Heliograph itself: the maintenance timer or an alert rule.")
    edited_at: datetime | None
    components: list[ComponentImpact] = strawberry.field(
        description="The impacts this update set (a delta over the earlier updates)."
    )

    @classmethod
    def from_model(cls, update: EventUpdate,
                   components: list[ComponentImpact]) -> EventUpdateType:
        return cls(id=strawberry.ID(update.id), at=update.at, status=update.status,
                   message=update.message, notify=update.notify, automatic=update.automatic,
                   edited_at=update.edited_at, components=components)


@strawberry.type(name="Event")
class EventType:
    id: strawberry.ID
    kind: EventKind
    status: EventStatus
    title: str
    started_at: datetime | None = strawberry.field(
        description="Incidents: when it began. Maintenance: when it went IN_PROGRESS."
    )
    ended_at: datetime | None = strawberry.field(description="When it reached a final status.")
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    auto_start: bool
    auto_complete: bool
    retrospective: bool
    cancelled: bool = strawberry.field(description="A maintenance cancelled before its start.")
    created_at: datetime
    updated_at: datetime
    model: strawberry.Private[Event]
    page_model: strawberry.Private[StatusPage | None]

    @classmethod
    def from_model(cls, event: Event, page: StatusPage | None = None) -> EventType:
        return cls(
            id=strawberry.ID(event.id), kind=event.kind, status=event.status,
            title=event.title, started_at=event.started_at, ended_at=event.ended_at,
            scheduled_start=event.scheduled_start, scheduled_end=event.scheduled_end,
            auto_start=event.auto_start, auto_complete=event.auto_complete,
            retrospective=event.retrospective, cancelled=event.cancelled,
            created_at=event.created_at, updated_at=event.updated_at, model=event,
            page_model=page,
        )

    @strawberry.field(description="Each affected component with the event's current impact "
                                  "(for SCHEDULED maintenance, the planned components).")
    async def components(self, info: Info) -> list[ComponentImpact]:
        page = await _page(info, self.page_model, self.model.page_id)
        rows = await info.context.loaders.events.affected.load(self.model.id)
        return [ComponentImpact.build(c, impact, page) for c, impact in rows]

    @strawberry.field(description="The timeline, in time order.")
    async def updates(self, info: Info) -> list[EventUpdateType]:
        page = await _page(info, self.page_model, self.model.page_id)
        rows = await info.context.loaders.events.updates.load(self.model.id)
        return [EventUpdateType.from_model(u, [ComponentImpact.build(c, i, page)
                                               for c, i in impacts])
                for u, impacts in rows]

    @strawberry.field
    async def page(self, info: Info) -> Annotated[StatusPageType, strawberry.lazy("schema.page")]:
        from schema.page import StatusPageType

        return StatusPageType.from_model(await _page(info, self.page_model,
                                                     self.model.page_id))


@strawberry.type
class EventEdge:
    cursor: str
    node: EventType


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    nodes: list[EventType]
    page_info: PageInfo


async def page_events(info: Info, page: StatusPage, *, kind: EventKind | None,
                      state: EventState | None, first: int, after: str | None
                      ) -> EventConnection:
    """`page.events`: a Relay connection in the state's order (history.list_events)."""
    rows, more = await history.list_events(page=page, kind=kind, state=state, first=first,
                                           after=after)
    edges = [EventEdge(cursor=history.encode_cursor(e, state),
                       node=EventType.from_model(e, page)) for e in rows]
    return EventConnection(
        edges=edges, nodes=[e.node for e in edges],
        page_info=PageInfo(has_next_page=more,
                           end_cursor=edges[-1].cursor if edges else None),
    )


@strawberry.type
class Query:
    @strawberry.field(description="An event by id; null when unknown or on a page you may not "
                                  "see.")
    async def event(self, info: Info, id: strawberry.ID) -> EventType | None:
        found = await visible_event(info.context.actor, str(id))
        return EventType.from_model(*found) if found else None


__all__ = ["ComponentImpact", "EventConnection", "EventType", "EventUpdateType", "Query",
           "page_events"]
