"""Availability figures and daily bars (the availability issue fills in the computation)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import Component, StatusPage
from schema.base import ComponentStatus
from schema.context import Info

if TYPE_CHECKING:
    from schema.component import ComponentType
    from schema.event import EventType


@strawberry.type
class AvailabilityInterval:
    component_id: strawberry.ID
    start: datetime
    end: datetime
    status: ComponentStatus
    event_ids: list[strawberry.ID]

    @strawberry.field
    async def component(self, info: Info) -> Annotated[
        ComponentType, strawberry.lazy("schema.component")
    ] | None:
        raise NotImplementedError

    @strawberry.field
    async def events(
        self, info: Info
    ) -> list[Annotated[EventType, strawberry.lazy("schema.event")]]:
        raise NotImplementedError


@strawberry.type
class Availability:
    ratio: float | None = strawberry.field(
        description="uptime / (total − maintenance), 0–1 unrounded; null when nothing counts."
    )
    uptime_seconds: float
    downtime_seconds: float
    maintenance_seconds: float
    total_seconds: float
    start: datetime
    end: datetime
    intervals: list[AvailabilityInterval]


@strawberry.type
class DailyBar:
    date: date
    status: ComponentStatus | None
    availability: Availability
    event_ids: list[strawberry.ID]

    @strawberry.field
    async def events(
        self, info: Info
    ) -> list[Annotated[EventType, strawberry.lazy("schema.event")]]:
        raise NotImplementedError


async def page_availability(info: Info, page: StatusPage, start: datetime | None,
                            end: datetime | None) -> Availability:
    raise NotImplementedError


async def components_availability(info: Info, page: StatusPage, components: list[Component],
                                  start: datetime | None, end: datetime | None) -> Availability:
    raise NotImplementedError


async def components_daily_bars(info: Info, page: StatusPage, components: list[Component],
                                days: int) -> list[DailyBar]:
    raise NotImplementedError
