"""Events: types, `event(id)`, `page.events` and the publishing mutations (the events issue)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import StatusPage
from schema.base import ComponentStatus, EventKind, EventState, EventStatus
from schema.context import Info

if TYPE_CHECKING:
    from schema.component import ComponentType


@strawberry.type
class ComponentImpact:
    impact: ComponentStatus
    component: Annotated[ComponentType, strawberry.lazy("schema.component")]


@strawberry.type(name="EventUpdate")
class EventUpdateType:
    id: strawberry.ID
    at: datetime
    status: EventStatus
    message: str
    notify: bool
    components: list[ComponentImpact]


@strawberry.type(name="Event")
class EventType:
    id: strawberry.ID
    kind: EventKind
    status: EventStatus
    title: str
    started_at: datetime | None
    ended_at: datetime | None
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    retrospective: bool
    components: list[ComponentImpact]
    updates: list[EventUpdateType]


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
    return EventConnection(edges=[], nodes=[], page_info=PageInfo(has_next_page=False,
                                                                  end_cursor=None))


@strawberry.type
class Query:
    @strawberry.field
    async def event(self, info: Info, id: strawberry.ID) -> EventType | None:
        return None
