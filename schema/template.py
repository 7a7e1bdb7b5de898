"""Templates: the `Template` type, `templates(pageId, kind)` and their mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from models import Template
from models.enums import ComponentStatus as Status
from resolvers import template as templates
from resolvers.errors import invalid
from schema.base import EventKind, EventStatus, keep
from schema.context import Info
from schema.errors import CommonErrors
from schema.event import ComponentImpact
from schema.event_mutations import ComponentImpactInput, impacts
from schema.permissions import Policy, guard


@strawberry.type(name="Template")
class TemplateType:
    id: strawberry.ID
    kind: EventKind
    name: str
    title: str
    message: str
    status: EventStatus | None
    updated_at: datetime
    model: strawberry.Private[Template]

    @classmethod
    def from_model(cls, template: Template) -> TemplateType:
        return cls(id=strawberry.ID(template.id), kind=template.kind, name=template.name,
                   title=template.title, message=template.message, status=template.status,
                   updated_at=template.updated_at, model=template)

    @strawberry.field(description="The impacts it prefills (components since deleted drop out).")
    async def components(self, info: Info) -> list[ComponentImpact]:
        page = await info.context.loaders.page_by_id.load(self.model.page_id)
        assert page is not None
        wanted = [(str(i["componentId"]), Status(i["impact"])) for i in self.model.impacts]
        found = await info.context.loaders.events.component.load_many([c for c, _ in wanted])
        return [ComponentImpact.build(c, impact, page)
                for c, (_, impact) in zip(found, wanted, strict=True) if c is not None]


@strawberry.input
class CreateTemplateInput:
    page_id: strawberry.ID
    kind: EventKind
    name: str
    title: str | None = None
    message: str | None = None
    status: EventStatus | None = None
    components: list[ComponentImpactInput] | None = None


@strawberry.input
class UpdateTemplateInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    message: str | None = strawberry.UNSET
    status: EventStatus | None = strawberry.UNSET
    components: list[ComponentImpactInput] | None = strawberry.UNSET


@strawberry.input
class DeleteTemplateInput:
    id: strawberry.ID


@strawberry.type
class CreateTemplatePayload:
    template: TemplateType


@strawberry.type
class UpdateTemplatePayload:
    template: TemplateType


@strawberry.type
class DeleteTemplatePayload:
    deleted_template_id: strawberry.ID


CreateTemplateResult = Annotated[
    CreateTemplatePayload | CommonErrors,
    strawberry.union("CreateTemplateResult"),
]
UpdateTemplateResult = Annotated[
    UpdateTemplatePayload | CommonErrors,
    strawberry.union("UpdateTemplateResult"),
]
DeleteTemplateResult = Annotated[
    DeleteTemplatePayload | CommonErrors,
    strawberry.union("DeleteTemplateResult"),
]


@strawberry.type
class Query:
    @strawberry.field(description="A page's templates (event management role for the page).")
    async def templates(self, info: Info, page_id: strawberry.ID,
                        kind: EventKind | None = None) -> list[TemplateType]:
        rows = await templates.list_templates(actor=info.context.actor, page_id=str(page_id),
                                              kind=kind)
        return [TemplateType.from_model(t) for t in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def create_template(self, info: Info, input: CreateTemplateInput
                              ) -> CreateTemplateResult:
        template = await templates.create_template(
            actor=info.context.actor, page_id=str(input.page_id), kind=input.kind,
            name=input.name, title=input.title, message=input.message, status=input.status,
            components=impacts(input.components),
        )
        return CreateTemplatePayload(template=TemplateType.from_model(template))

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def update_template(self, info: Info, input: UpdateTemplateInput
                              ) -> UpdateTemplateResult:
        if input.name is None:
            raise invalid("name cannot be null", "name")
        components = keep(input.components)
        template = await templates.update_template(
            actor=info.context.actor, template_id=str(input.id), name=keep(input.name),
            title=keep(input.title), message=keep(input.message), status=keep(input.status),
            components=impacts(components) if isinstance(components, list) or components is None
            else components,
        )
        return UpdateTemplatePayload(template=TemplateType.from_model(template))

    @strawberry.mutation(extensions=guard(Policy.EVENT_MANAGEMENT))
    async def delete_template(self, info: Info, input: DeleteTemplateInput
                              ) -> DeleteTemplateResult:
        deleted = await templates.delete_template(actor=info.context.actor,
                                                  template_id=str(input.id))
        return DeleteTemplatePayload(deleted_template_id=strawberry.ID(deleted))
