"""Components and groups: their types and mutations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import Component, ComponentGroup, StatusPage
from resolvers import component as components
from resolvers.status import worst
from schema.base import ComponentStatus, keep, not_null
from schema.context import Info
from schema.errors import BeforeSinceError, CommonErrors
from schema.permissions import Policy, guard

if TYPE_CHECKING:
    from schema.availability import Availability, DailyBar
    from schema.page import StatusPageType


@strawberry.type(name="Component")
class ComponentType:
    id: strawberry.ID
    name: str
    description: str
    position: int
    since: datetime = strawberry.field(description="Availability is counted from here.")
    showcase: bool
    only_show_if_degraded: bool
    model: strawberry.Private[Component]
    page_model: strawberry.Private[StatusPage]

    @classmethod
    def from_model(cls, component: Component, page: StatusPage) -> ComponentType:
        return cls(
            id=strawberry.ID(component.id), name=component.name,
            description=component.description, position=component.position,
            since=component.since, showcase=component.showcase,
            only_show_if_degraded=component.only_show_if_degraded,
            model=component, page_model=page,
        )

    @strawberry.field(description="The current status, derived from the events active now.")
    async def status(self, info: Info) -> ComponentStatus:
        statuses = await info.context.loaders.statuses_by_page.load(self.model.page_id)
        return statuses.get(self.model.id, ComponentStatus.OPERATIONAL)

    @strawberry.field
    async def group(self, info: Info) -> ComponentGroupType | None:
        if self.model.group_id is None:
            return None
        group = await info.context.loaders.group_by_id.load(self.model.group_id)
        return ComponentGroupType.from_model(group, self.page_model) if group else None

    @strawberry.field
    async def page(self, info: Info) -> Annotated[StatusPageType, strawberry.lazy("schema.page")]:
        from schema.page import StatusPageType

        return StatusPageType.from_model(self.page_model)

    @strawberry.field(description="Availability over [from, to), clipped to `since`; "
                                  "default the last 90 days.")
    async def availability(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> Annotated[Availability, strawberry.lazy("schema.availability")]:
        from schema.availability import components_availability

        return await components_availability(info, self.page_model, [self.model], from_, to)

    @strawberry.field(description="One bar per local day of the page's time zone, ending today.")
    async def daily_bars(self, info: Info, days: int = 90) -> list[
        Annotated[DailyBar, strawberry.lazy("schema.availability")]
    ]:
        from schema.availability import components_daily_bars

        return await components_daily_bars(info, self.page_model, [self.model], days)


@strawberry.type(name="ComponentGroup")
class ComponentGroupType:
    id: strawberry.ID
    name: str
    description: str
    position: int
    model: strawberry.Private[ComponentGroup]
    page_model: strawberry.Private[StatusPage]

    @classmethod
    def from_model(cls, group: ComponentGroup, page: StatusPage) -> ComponentGroupType:
        return cls(id=strawberry.ID(group.id), name=group.name, description=group.description,
                   position=group.position, model=group, page_model=page)

    async def _components(self, info: Info) -> list[Component]:
        rows = await info.context.loaders.components_by_page.load(self.model.page_id)
        return [c for c in rows if c.group_id == self.model.id]

    @strawberry.field
    async def components(self, info: Info) -> list[ComponentType]:
        return [ComponentType.from_model(c, self.page_model) for c in
                await self._components(info)]

    @strawberry.field(description="The worst status of its components.")
    async def status(self, info: Info) -> ComponentStatus:
        statuses = await info.context.loaders.statuses_by_page.load(self.model.page_id)
        return worst(statuses.get(c.id, ComponentStatus.OPERATIONAL)
                     for c in await self._components(info))

    @strawberry.field(description="Σ uptime / Σ (total − maintenance) over its components.")
    async def availability(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> Annotated[Availability, strawberry.lazy("schema.availability")]:
        from schema.availability import components_availability

        return await components_availability(info, self.page_model,
                                             await self._components(info), from_, to)

    @strawberry.field(description="One bar per local day of the page's time zone, ending today.")
    async def daily_bars(self, info: Info, days: int = 90) -> list[
        Annotated[DailyBar, strawberry.lazy("schema.availability")]
    ]:
        from schema.availability import components_daily_bars

        return await components_daily_bars(info, self.page_model,
                                           await self._components(info), days)


# ---- inputs and payloads ------------------------------------------------------------------


@strawberry.input
class CreateComponentGroupInput:
    page_id: strawberry.ID
    name: str
    position: int | None = None
    description: str | None = None


@strawberry.input
class UpdateComponentGroupInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET


@strawberry.input
class DeleteComponentGroupInput:
    id: strawberry.ID


@strawberry.input
class ReorderComponentGroupsInput:
    page_id: strawberry.ID
    group_ids: list[strawberry.ID]


@strawberry.input
class CreateComponentInput:
    page_id: strawberry.ID
    name: str
    group_id: strawberry.ID | None = None
    description: str | None = None
    position: int | None = None
    since: datetime | None = None
    showcase: bool = True
    only_show_if_degraded: bool = False


@strawberry.input
class UpdateComponentInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    group_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="null takes the component out of its group."
    )
    since: datetime | None = strawberry.UNSET
    showcase: bool | None = strawberry.UNSET
    only_show_if_degraded: bool | None = strawberry.UNSET


@strawberry.input
class DeleteComponentInput:
    id: strawberry.ID


@strawberry.input
class ReorderComponentsInput:
    page_id: strawberry.ID
    component_ids: list[strawberry.ID]
    group_id: strawberry.ID | None = strawberry.field(
        default=None, description="The group whose components are ordered; null: ungrouped."
    )


@strawberry.type
class CreateComponentGroupPayload:
    group: ComponentGroupType


@strawberry.type
class UpdateComponentGroupPayload:
    group: ComponentGroupType


@strawberry.type
class DeleteComponentGroupPayload:
    deleted_group_id: strawberry.ID


@strawberry.type
class ReorderComponentGroupsPayload:
    page: Annotated[StatusPageType, strawberry.lazy("schema.page")]


@strawberry.type
class CreateComponentPayload:
    component: ComponentType


@strawberry.type
class UpdateComponentPayload:
    component: ComponentType


@strawberry.type
class DeleteComponentPayload:
    deleted_component_id: strawberry.ID


@strawberry.type
class ReorderComponentsPayload:
    page: Annotated[StatusPageType, strawberry.lazy("schema.page")]


CreateComponentGroupResult = Annotated[
    CreateComponentGroupPayload | CommonErrors,
    strawberry.union("CreateComponentGroupResult"),
]
UpdateComponentGroupResult = Annotated[
    UpdateComponentGroupPayload | CommonErrors,
    strawberry.union("UpdateComponentGroupResult"),
]
DeleteComponentGroupResult = Annotated[
    DeleteComponentGroupPayload | CommonErrors,
    strawberry.union("DeleteComponentGroupResult"),
]
ReorderComponentGroupsResult = Annotated[
    ReorderComponentGroupsPayload | CommonErrors,
    strawberry.union("ReorderComponentGroupsResult"),
]
CreateComponentResult = Annotated[
    CreateComponentPayload | CommonErrors,
    strawberry.union("CreateComponentResult"),
]
UpdateComponentResult = Annotated[
    UpdateComponentPayload | CommonErrors | BeforeSinceError,
    strawberry.union("UpdateComponentResult"),
]
DeleteComponentResult = Annotated[
    DeleteComponentPayload | CommonErrors,
    strawberry.union("DeleteComponentResult"),
]
ReorderComponentsResult = Annotated[
    ReorderComponentsPayload | CommonErrors,
    strawberry.union("ReorderComponentsResult"),
]


async def _page_of(page_id: str) -> StatusPage:
    return await StatusPage.get(id=page_id)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def create_component_group(
        self, info: Info, input: CreateComponentGroupInput
    ) -> CreateComponentGroupResult:
        group = await components.create_group(
            actor=info.context.actor, page_id=str(input.page_id), name=input.name,
            position=input.position, description=input.description,
        )
        return CreateComponentGroupPayload(
            group=ComponentGroupType.from_model(group, await _page_of(group.page_id))
        )

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def update_component_group(
        self, info: Info, input: UpdateComponentGroupInput
    ) -> UpdateComponentGroupResult:
        group = await components.update_group(
            actor=info.context.actor, group_id=str(input.id), name=not_null(input.name, "name"),
            description=keep(input.description),
        )
        return UpdateComponentGroupPayload(
            group=ComponentGroupType.from_model(group, await _page_of(group.page_id))
        )

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def delete_component_group(
        self, info: Info, input: DeleteComponentGroupInput
    ) -> DeleteComponentGroupResult:
        deleted = await components.delete_group(actor=info.context.actor, group_id=str(input.id))
        return DeleteComponentGroupPayload(deleted_group_id=strawberry.ID(deleted))

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def reorder_component_groups(
        self, info: Info, input: ReorderComponentGroupsInput
    ) -> ReorderComponentGroupsResult:
        from schema.page import StatusPageType

        page = await components.reorder_groups(
            actor=info.context.actor, page_id=str(input.page_id),
            group_ids=[str(g) for g in input.group_ids],
        )
        return ReorderComponentGroupsPayload(page=StatusPageType.from_model(page))

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def create_component(
        self, info: Info, input: CreateComponentInput
    ) -> CreateComponentResult:
        component = await components.create_component(
            actor=info.context.actor, page_id=str(input.page_id), name=input.name,
            group_id=str(input.group_id) if input.group_id else None,
            description=input.description, position=input.position, since=input.since,
            showcase=input.showcase, only_show_if_degraded=input.only_show_if_degraded,
        )
        return CreateComponentPayload(
            component=ComponentType.from_model(component, await _page_of(component.page_id))
        )

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def update_component(
        self, info: Info, input: UpdateComponentInput
    ) -> UpdateComponentResult:
        name = not_null(input.name, "name")
        group_id = keep(input.group_id)
        component = await components.update_component(
            actor=info.context.actor, component_id=str(input.id), name=name,
            description=keep(input.description),
            group_id=str(group_id) if isinstance(group_id, str) else group_id,
            since=keep(input.since), showcase=keep(input.showcase),
            only_show_if_degraded=keep(input.only_show_if_degraded),
        )
        return UpdateComponentPayload(
            component=ComponentType.from_model(component, await _page_of(component.page_id))
        )

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def delete_component(
        self, info: Info, input: DeleteComponentInput
    ) -> DeleteComponentResult:
        deleted = await components.delete_component(actor=info.context.actor,
                                                    component_id=str(input.id))
        return DeleteComponentPayload(deleted_component_id=strawberry.ID(deleted))

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def reorder_components(
        self, info: Info, input: ReorderComponentsInput
    ) -> ReorderComponentsResult:
        from schema.page import StatusPageType

        page = await components.reorder_components(
            actor=info.context.actor, page_id=str(input.page_id),
            component_ids=[str(c) for c in input.component_ids],
            group_id=str(input.group_id) if input.group_id else None,
        )
        return ReorderComponentsPayload(page=StatusPageType.from_model(page))
