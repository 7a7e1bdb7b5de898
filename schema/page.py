"""Status pages: the `StatusPage` type, `page(slug)` / `pages`, and the page mutations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import StatusPage
from models import enums as e
from resolvers import domains as domain_names
from resolvers import page as pages
from resolvers.status import describe, worst
from schema.base import ComponentStatus, EventKind, EventState, Visibility, keep, not_null
from schema.context import Info
from schema.errors import CommonErrors, LimitReachedError
from schema.permissions import Policy, guard

if TYPE_CHECKING:
    from schema.availability import Availability
    from schema.component import ComponentGroupType, ComponentType
    from schema.event import EventConnection
    from schema.subscriber import SubscribeBudget


@strawberry.type(name="StatusPage")
class StatusPageType:
    id: strawberry.ID
    slug: str
    name: str
    description: str
    visibility: Visibility
    time_zone: str
    language: str = strawberry.field(
        description="The language of the page, its mails and IM cards: 'en' or 'zh-CN'.")
    allow_visitor_language: bool = strawberry.field(
        description="Whether a visitor's Accept-Language picks among the supported languages "
                    "(else every visitor reads the page's language).")
    position: int
    sequence: int = strawberry.field(
        description="Incremented by every committed change to the page's visible state."
    )
    updated_at: datetime
    logo_url: str = strawberry.field(description="An https address of the page's logo, or empty.")
    accent_color: str = strawberry.field(description="#rrggbb, or empty for the default.")
    model: strawberry.Private[StatusPage]

    @classmethod
    def from_model(cls, page: StatusPage) -> StatusPageType:
        return cls(
            id=strawberry.ID(page.id), slug=page.slug, name=page.name,
            description=page.description, visibility=page.visibility,
            time_zone=page.time_zone, language=page.language,
            allow_visitor_language=page.allow_visitor_language,
            position=page.position, sequence=page.sequence,
            updated_at=page.updated_at, logo_url=page.logo_url,
            accent_color=page.accent_color, model=page,
        )

    @strawberry.field(description="Host names serving this page at their root; links use "
                                  "the first (docs/pages.md).")
    async def domains(self) -> list[str]:
        return await domain_names.of_page(self.model)

    @strawberry.field(description="The worst component status now (PRODUCT.md §2 precedence).")
    async def status(self, info: Info) -> ComponentStatus:
        statuses = await info.context.loaders.statuses_by_page.load(self.model.id)
        return worst(statuses.values())

    @strawberry.field(description="The overall status in words: 'All systems operational', …")
    async def status_description(self, info: Info) -> str:
        statuses = await info.context.loaders.statuses_by_page.load(self.model.id)
        return describe(worst(statuses.values()))

    @strawberry.field
    async def components(self, info: Info) -> list[
        Annotated[ComponentType, strawberry.lazy("schema.component")]
    ]:
        from schema.component import ComponentType

        rows = await info.context.loaders.components_by_page.load(self.model.id)
        groups = await info.context.loaders.groups_by_page.load(self.model.id)
        group_rank = {g.id: index for index, g in enumerate(groups)}
        # Display order: groups in their order, their components by position; ungrouped last.
        ordered = sorted(rows, key=lambda c: (group_rank.get(c.group_id or "", len(groups)),
                                              c.position))
        return [ComponentType.from_model(c, self.model) for c in ordered]

    @strawberry.field
    async def groups(self, info: Info) -> list[
        Annotated[ComponentGroupType, strawberry.lazy("schema.component")]
    ]:
        from schema.component import ComponentGroupType

        rows = await info.context.loaders.groups_by_page.load(self.model.id)
        return [ComponentGroupType.from_model(g, self.model) for g in rows]

    @strawberry.field(description="Events of the page, newest first for ACTIVE and PAST, "
                                  "soonest first for UPCOMING; no state means all.")
    async def events(
        self,
        info: Info,
        kind: EventKind | None = None,
        state: EventState | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Annotated[EventConnection, strawberry.lazy("schema.event")]:
        from schema.event import page_events

        return await page_events(info, self.model, kind=kind, state=state, first=first,
                                 after=after)

    @strawberry.field(description="Availability over [from, to) — default the last 90 days; "
                                  "Σ uptime / Σ (total − maintenance) over the components.")
    async def availability(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> Annotated[Availability, strawberry.lazy("schema.availability")]:
        from schema.availability import page_availability

        return await page_availability(info, self.model, from_, to)

    @strawberry.field(description="This hour's budget of confirmation mails and what it has "
                                  "used (page management; null with FORBIDDEN otherwise).")
    async def subscribe_budget(self, info: Info) -> Annotated[
        SubscribeBudget, strawberry.lazy("schema.subscriber")
    ] | None:
        from schema.subscriber import SubscribeBudget

        return await SubscribeBudget.of(info, self.model.id)


@strawberry.input
class CreatePageInput:
    slug: str
    name: str
    visibility: Visibility = e.Visibility.PUBLIC
    time_zone: str = "UTC"
    description: str | None = None
    position: int | None = None
    domains: list[str] | None = None
    logo_url: str = ""
    accent_color: str = ""
    language: str = "en"
    allow_visitor_language: bool = True


@strawberry.input
class UpdatePageInput:
    id: strawberry.ID
    slug: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    visibility: Visibility | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    domains: list[str] | None = strawberry.UNSET
    logo_url: str | None = strawberry.UNSET
    accent_color: str | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    allow_visitor_language: bool | None = strawberry.UNSET


@strawberry.input
class DeletePageInput:
    id: strawberry.ID


@strawberry.input
class ReorderPagesInput:
    page_ids: list[strawberry.ID]


@strawberry.type
class CreatePagePayload:
    page: StatusPageType


@strawberry.type
class UpdatePagePayload:
    page: StatusPageType


@strawberry.type
class DeletePagePayload:
    deleted_page_id: strawberry.ID


@strawberry.type
class ReorderPagesPayload:
    pages: list[StatusPageType]


CreatePageResult = Annotated[
    CreatePagePayload | CommonErrors | LimitReachedError,
    strawberry.union("CreatePageResult"),
]
UpdatePageResult = Annotated[
    UpdatePagePayload | CommonErrors | LimitReachedError,
    strawberry.union("UpdatePageResult"),
]
DeletePageResult = Annotated[DeletePagePayload | CommonErrors, strawberry.union("DeletePageResult")]
ReorderPagesResult = Annotated[
    ReorderPagesPayload | CommonErrors,
    strawberry.union("ReorderPagesResult"),
]


@strawberry.type
class Query:
    @strawberry.field(description="A page by slug; null when it does not exist or you may not "
                                  "see it (internal pages need a signed-in member).")
    async def page(self, info: Info, slug: str) -> StatusPageType | None:
        page = await pages.visible_page(info.context.actor, slug=slug)
        return StatusPageType.from_model(page) if page else None

    @strawberry.field(description="Every page you may see, by position.")
    async def pages(self, info: Info) -> list[StatusPageType]:
        return [StatusPageType.from_model(p) for p in
                await pages.visible_pages(info.context.actor)]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def create_page(self, info: Info, input: CreatePageInput) -> CreatePageResult:
        page = await pages.create_page(
            actor=info.context.actor, slug=input.slug, name=input.name,
            visibility=input.visibility, time_zone=input.time_zone,
            description=input.description, position=input.position,
            domains_=input.domains, logo_url=input.logo_url, accent_color=input.accent_color,
            language=input.language, allow_visitor_language=input.allow_visitor_language,
        )
        return CreatePagePayload(page=StatusPageType.from_model(page))

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def update_page(self, info: Info, input: UpdatePageInput) -> UpdatePageResult:
        page = await pages.update_page(
            actor=info.context.actor, page_id=str(input.id),
            slug=not_null(input.slug, "slug"), name=not_null(input.name, "name"),
            visibility=not_null(input.visibility, "visibility"),
            time_zone=not_null(input.time_zone, "time_zone"),
            description=keep(input.description), domains_=keep(input.domains),
            logo_url=keep(input.logo_url), accent_color=keep(input.accent_color),
            language=not_null(input.language, "language"),
            allow_visitor_language=not_null(input.allow_visitor_language,
                                            "allow_visitor_language"),
        )
        return UpdatePagePayload(page=StatusPageType.from_model(page))

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def delete_page(self, info: Info, input: DeletePageInput) -> DeletePageResult:
        deleted = await pages.delete_page(actor=info.context.actor, page_id=str(input.id))
        return DeletePagePayload(deleted_page_id=strawberry.ID(deleted))

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def reorder_pages(self, info: Info, input: ReorderPagesInput) -> ReorderPagesResult:
        rows = await pages.reorder_pages(actor=info.context.actor,
                                         page_ids=[str(i) for i in input.page_ids])
        return ReorderPagesPayload(pages=[StatusPageType.from_model(p) for p in rows])
