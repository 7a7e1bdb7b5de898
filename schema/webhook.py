"""Webhook subscribers over GraphQL (page managers): `subscribeWebhook` (the secret is in its
answer, once), `webhooks(pageId)` with state and failures, `enableWebhook`, `deleteWebhook`."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated

import strawberry

from models import Subscriber, SubscriberComponent
from resolvers import webhook as webhooks
from schema.base import SubscriberState
from schema.context import Info
from schema.errors import CommonErrors
from schema.permissions import Policy, guard, guard_query


@strawberry.type(name="Webhook", description="A webhook subscriber: Statuspage-shaped messages "
                                             "signed per Standard Webhooks (page managers).")
class WebhookType:
    id: strawberry.ID
    page_id: strawberry.ID
    url: str = strawberry.field(description="Scheme, host and path (the query is not shown).")
    state: SubscriberState = strawberry.field(description=(
        "PENDING until the endpoint answers the challenge; CONFIRMED receives messages; "
        "DISABLED after failures (see disabledReason); UNSUBSCRIBED by its unsubscribe link."))
    component_ids: list[strawberry.ID] = strawberry.field(
        description="Chosen components; empty with no eventId means the whole page.")
    event_id: strawberry.ID | None
    failure_count: int = strawberry.field(
        description="Deliveries in a row that failed for good (reset by a success).")
    disabled_reason: str | None
    disabled_at: datetime | None
    last_failure: str | None = strawberry.field(
        description="Why the latest failed delivery failed.")
    last_failure_at: datetime | None
    created_at: datetime
    confirmed_at: datetime | None


async def webhook_types(rows: list[Subscriber]) -> list[WebhookType]:
    ids = [s.id for s in rows]
    scopes: dict[str, list[str]] = defaultdict(list)
    for sid, cid in await SubscriberComponent.filter(subscriber_id__in=ids).values_list(
            "subscriber_id", "component_id"):
        scopes[str(sid)].append(str(cid))
    failures = await webhooks.last_failures(ids)
    made = []
    for s in rows:
        reason, at = failures.get(s.id, (None, None))
        made.append(WebhookType(
            id=strawberry.ID(s.id), page_id=strawberry.ID(s.page_id),
            url=webhooks.shown_url(s.webhook_url), state=s.state,
            component_ids=[strawberry.ID(c) for c in scopes[s.id]],
            event_id=strawberry.ID(s.event_id) if s.event_id else None,
            failure_count=s.failure_count, disabled_reason=s.disabled_reason,
            disabled_at=s.disabled_at, last_failure=reason, last_failure_at=at,
            created_at=s.created_at, confirmed_at=s.confirmed_at))
    return made


@strawberry.input
class SubscribeWebhookInput:
    page_slug: str
    url: str = strawberry.field(description="https:// in production, to a public address.")
    component_ids: list[strawberry.ID] | None = None
    event_id: strawberry.ID | None = None


@strawberry.type
class SubscribeWebhookPayload:
    webhook: WebhookType
    secret: str = strawberry.field(description=(
        "The signing secret (`whsec_…`, Standard Webhooks): shown only in this answer."))


@strawberry.input
class WebhookInput:
    subscriber_id: strawberry.ID


@strawberry.type
class EnableWebhookPayload:
    webhook: WebhookType


@strawberry.type
class DeleteWebhookPayload:
    deleted_webhook_id: strawberry.ID


SubscribeWebhookResult = Annotated[
    SubscribeWebhookPayload | CommonErrors,
    strawberry.union("SubscribeWebhookResult"),
]
EnableWebhookResult = Annotated[
    EnableWebhookPayload | CommonErrors,
    strawberry.union("EnableWebhookResult"),
]
DeleteWebhookResult = Annotated[
    DeleteWebhookPayload | CommonErrors,
    strawberry.union("DeleteWebhookResult"),
]


async def _one(hook: Subscriber) -> WebhookType:
    return (await webhook_types([hook]))[0]


@strawberry.type
class Query:
    @strawberry.field(description="A page's webhook subscribers with their state and failures "
                                  "(page management).",
                      extensions=guard_query(Policy.PAGE_MANAGEMENT))
    async def webhooks(self, info: Info, page_id: strawberry.ID) -> list[WebhookType]:
        rows = await webhooks.webhooks(actor=info.context.actor, page_id=str(page_id))
        return await webhook_types(rows)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT), description=(
        "Add a webhook subscriber (page managers; public and internal pages). It receives "
        "nothing until its endpoint answers the signed challenge by echoing it."))
    async def subscribe_webhook(self, info: Info, input: SubscribeWebhookInput
                                ) -> SubscribeWebhookResult:
        hook, secret = await webhooks.subscribe_webhook(
            actor=info.context.actor, page_slug=input.page_slug, url=input.url,
            component_ids=None if input.component_ids is None
            else [str(c) for c in input.component_ids],
            event_id=str(input.event_id) if input.event_id else None)
        return SubscribeWebhookPayload(webhook=await _one(hook), secret=secret)

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT), description=(
        "Start a disabled webhook again: a new challenge, its failures forgotten."))
    async def enable_webhook(self, info: Info, input: WebhookInput) -> EnableWebhookResult:
        hook = await webhooks.enable_webhook(actor=info.context.actor,
                                             subscriber_id=str(input.subscriber_id))
        return EnableWebhookPayload(webhook=await _one(hook))

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def delete_webhook(self, info: Info, input: WebhookInput) -> DeleteWebhookResult:
        deleted = await webhooks.delete_webhook(actor=info.context.actor,
                                                subscriber_id=str(input.subscriber_id))
        return DeleteWebhookPayload(deleted_webhook_id=strawberry.ID(deleted))
