"""The event mutations: publish, update, edit and delete incidents and maintenance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from models import Event
from resolvers import event as events
from resolvers import maintenance, retrospective, revision
from schema.base import ComponentStatus, EventKind, EventStatus, keep, not_null
from schema.context import Info
from schema.errors import BeforeSinceError, CommonErrors
from schema.event import ComponentImpact, EventType, EventUpdateType
from schema.permissions import Policy, guard


@strawberry.input
class ComponentImpactInput:
    component_id: strawberry.ID
    impact: ComponentStatus


def impacts(items: list[ComponentImpactInput] | None) -> list[tuple[str, ComponentStatus]]:
    return [(str(i.component_id), i.impact) for i in items or ()]


@strawberry.input
class CreateIncidentInput:
    page_id: strawberry.ID
    title: str | None = None
    message: str | None = None
    status: EventStatus | None = None
    components: list[ComponentImpactInput] | None = None
    notify: bool = True
    template_id: strawberry.ID | None = None
    started_at: datetime | None = strawberry.field(
        default=None, description="Backdate the start (not in the future).")


@strawberry.input
class ScheduleMaintenanceInput:
    page_id: strawberry.ID
    scheduled_start: datetime
    scheduled_end: datetime
    title: str | None = None
    message: str | None = None
    component_ids: list[strawberry.ID] | None = None
    notify: bool = True
    auto_start: bool = True
    auto_complete: bool = True
    template_id: strawberry.ID | None = None


@strawberry.input
class PostEventUpdateInput:
    event_id: strawberry.ID
    status: EventStatus
    message: str
    components: list[ComponentImpactInput] | None = None
    notify: bool = True


@strawberry.input
class RetrospectiveUpdateInput:
    at: datetime
    status: EventStatus
    message: str
    components: list[ComponentImpactInput] | None = None


@strawberry.input
class CreateRetrospectiveEventInput:
    page_id: strawberry.ID
    kind: EventKind
    title: str
    started_at: datetime
    ended_at: datetime
    components: list[ComponentImpactInput]
    updates: list[RetrospectiveUpdateInput]


@strawberry.input
class DeleteEventInput:
    event_id: strawberry.ID


@strawberry.input
class UpdateEventInput:
    event_id: strawberry.ID
    title: str


@strawberry.input
class EditEventUpdateInput:
    update_id: strawberry.ID
    message: str | None = strawberry.UNSET
    at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Retrospective events only.")
    components: list[ComponentImpactInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Retrospective events only: replaces the impacts this update set.")


@strawberry.input
class DeleteEventUpdateInput:
    update_id: strawberry.ID


@strawberry.input
class UpdateMaintenanceInput:
    event_id: strawberry.ID
    scheduled_start: datetime | None = strawberry.UNSET
    scheduled_end: datetime | None = strawberry.UNSET
    auto_start: bool | None = strawberry.UNSET
    auto_complete: bool | None = strawberry.UNSET
    component_ids: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.input
class CancelMaintenanceInput:
    event_id: strawberry.ID
    message: str | None = None
    notify: bool = True


@strawberry.type
class CreateIncidentPayload:
    event: EventType


@strawberry.type
class ScheduleMaintenancePayload:
    event: EventType


@strawberry.type
class PostEventUpdatePayload:
    event: EventType
    update: EventUpdateType


@strawberry.type
class CreateRetrospectiveEventPayload:
    event: EventType


@strawberry.type
class DeleteEventPayload:
    deleted_event_id: strawberry.ID


@strawberry.type
class UpdateEventPayload:
    event: EventType


@strawberry.type
class EditEventUpdatePayload:
    event: EventType
    update: EventUpdateType


@strawberry.type
class DeleteEventUpdatePayload:
    event: EventType
    deleted_update_id: strawberry.ID


@strawberry.type
class UpdateMaintenancePayload:
    event: EventType


@strawberry.type
class CancelMaintenancePayload:
    event: EventType


CreateIncidentResult = Annotated[
    CreateIncidentPayload | CommonErrors | BeforeSinceError,
    strawberry.union("CreateIncidentResult"),
]
ScheduleMaintenanceResult = Annotated[
    ScheduleMaintenancePayload | CommonErrors | BeforeSinceError,
    strawberry.union("ScheduleMaintenanceResult"),
]
PostEventUpdateResult = Annotated[
    PostEventUpdatePayload | CommonErrors | BeforeSinceError,
    strawberry.union("PostEventUpdateResult"),
]
CreateRetrospectiveEventResult = Annotated[
    CreateRetrospectiveEventPayload | CommonErrors | BeforeSinceError,
    strawberry.union("CreateRetrospectiveEventResult"),
]
DeleteEventResult = Annotated[
    DeleteEventPayload | CommonErrors,
    strawberry.union("DeleteEventResult"),
]
UpdateEventResult = Annotated[
    UpdateEventPayload | CommonErrors,
    strawberry.union("UpdateEventResult"),
]
EditEventUpdateResult = Annotated[
    EditEventUpdatePayload | CommonErrors | BeforeSinceError,
    strawberry.union("EditEventUpdateResult"),
]
DeleteEventUpdateResult = Annotated[
    DeleteEventUpdatePayload | CommonErrors,
    strawberry.union("DeleteEventUpdateResult"),
]
UpdateMaintenanceResult = Annotated[
    UpdateMaintenancePayload | CommonErrors | BeforeSinceError,
    strawberry.union("UpdateMaintenanceResult"),
]
CancelMaintenanceResult = Annotated[
    CancelMaintenancePayload | CommonErrors,
    strawberry.union("CancelMaintenanceResult"),
]


def _event(event: Event) -> EventType:
    return EventType.from_model(event)


async def _update(info: Info, event: Event, update_id: str) -> EventUpdateType:
    page = await info.context.loaders.page_by_id.load(event.page_id)
    assert page is not None
    for update, items in await info.context.loaders.events.updates.load(event.id):
        if update.id == update_id:
            return EventUpdateType.from_model(
                update, [ComponentImpact.build(c, i, page) for c, i in items])
    raise AssertionError("the update just written is missing")


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def create_incident(self, info: Info, input: CreateIncidentInput
                              ) -> CreateIncidentResult:
        event = await events.create_incident(
            actor=info.context.actor, page_id=str(input.page_id), title=input.title,
            message=input.message, status=input.status, components=impacts(input.components),
            notify=input.notify, started_at=input.started_at,
            template_id=str(input.template_id) if input.template_id else None,
        )
        return CreateIncidentPayload(event=_event(event))

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def schedule_maintenance(self, info: Info, input: ScheduleMaintenanceInput
                                   ) -> ScheduleMaintenanceResult:
        event = await maintenance.schedule_maintenance(
            actor=info.context.actor, page_id=str(input.page_id), title=input.title,
            message=input.message, scheduled_start=input.scheduled_start,
            scheduled_end=input.scheduled_end,
            component_ids=[str(c) for c in input.component_ids]
            if input.component_ids is not None else None,
            notify=input.notify, auto_start=input.auto_start,
            auto_complete=input.auto_complete,
            template_id=str(input.template_id) if input.template_id else None,
        )
        return ScheduleMaintenancePayload(event=_event(event))

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def post_event_update(self, info: Info, input: PostEventUpdateInput
                                ) -> PostEventUpdateResult:
        event, update = await events.post_event_update(
            actor=info.context.actor, event_id=str(input.event_id), status=input.status,
            message=input.message, components=impacts(input.components), notify=input.notify,
        )
        return PostEventUpdatePayload(event=_event(event),
                                      update=await _update(info, event, update.id))

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def create_retrospective_event(self, info: Info, input: CreateRetrospectiveEventInput
                                         ) -> CreateRetrospectiveEventResult:
        event = await retrospective.create_retrospective_event(
            actor=info.context.actor, page_id=str(input.page_id), kind=input.kind,
            title=input.title, started_at=input.started_at, ended_at=input.ended_at,
            components=impacts(input.components),
            updates=[retrospective.RetroUpdate(at=u.at, status=u.status, message=u.message,
                                               components=impacts(u.components))
                     for u in input.updates],
        )
        return CreateRetrospectiveEventPayload(event=_event(event))

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def delete_event(self, info: Info, input: DeleteEventInput) -> DeleteEventResult:
        deleted = await events.delete_event(actor=info.context.actor,
                                            event_id=str(input.event_id))
        return DeleteEventPayload(deleted_event_id=strawberry.ID(deleted))

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def update_event(self, info: Info, input: UpdateEventInput) -> UpdateEventResult:
        event = await events.update_event(actor=info.context.actor,
                                          event_id=str(input.event_id), title=input.title)
        return UpdateEventPayload(event=_event(event))

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def edit_event_update(self, info: Info, input: EditEventUpdateInput
                                ) -> EditEventUpdateResult:
        message, at = not_null(input.message, "message"), not_null(input.at, "at")
        components = keep(input.components)
        event, update = await revision.edit_event_update(
            actor=info.context.actor, update_id=str(input.update_id), message=message, at=at,
            components=impacts(components) if isinstance(components, list) else components,
        )
        return EditEventUpdatePayload(event=_event(event),
                                      update=await _update(info, event, update.id))

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def delete_event_update(self, info: Info, input: DeleteEventUpdateInput
                                  ) -> DeleteEventUpdateResult:
        event = await revision.delete_event_update(actor=info.context.actor,
                                                   update_id=str(input.update_id))
        return DeleteEventUpdatePayload(event=_event(event),
                                        deleted_update_id=input.update_id)

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def update_maintenance(self, info: Info, input: UpdateMaintenanceInput
                                 ) -> UpdateMaintenanceResult:
        start = not_null(input.scheduled_start, "scheduled_start")
        end = not_null(input.scheduled_end, "scheduled_end")
        auto_start = not_null(input.auto_start, "auto_start")
        auto_complete = not_null(input.auto_complete, "auto_complete")
        ids = keep(input.component_ids)
        event = await maintenance.update_maintenance(
            actor=info.context.actor, event_id=str(input.event_id),
            scheduled_start=start, scheduled_end=end,
            auto_start=auto_start, auto_complete=auto_complete,
            component_ids=[str(c) for c in ids] if isinstance(ids, list) else ids,
        )
        return UpdateMaintenancePayload(event=_event(event))

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def cancel_maintenance(self, info: Info, input: CancelMaintenanceInput
                                 ) -> CancelMaintenanceResult:
        event = await maintenance.cancel_maintenance(
            actor=info.context.actor, event_id=str(input.event_id), message=input.message,
            notify=input.notify,
        )
        return CancelMaintenancePayload(event=_event(event))
