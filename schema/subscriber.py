"""Subscriptions over GraphQL: `subscribe`, IM bindings, scope changes and unsubscribing, and
the managers' views of subscribers and deliveries."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from typing import Annotated, TypeAlias
from urllib.parse import urlparse

import strawberry

from models import Delivery, ImDestination, Subscriber, SubscriberComponent
from models import enums as e
from resolvers import delivery as deliveries
from resolvers import im
from resolvers import subscriber as subscribers
from schema.base import DeliveryStatus, ImProvider, SubscriberState
from schema.context import Info
from schema.errors import CommonErrors, RateLimitedError
from schema.permissions import Policy, guard, guard_query

strawberry.enum(e.SubscriberChannel)
strawberry.enum(e.DeliveryKind)
SubscriberChannel: TypeAlias = e.SubscriberChannel
DeliveryKind: TypeAlias = e.DeliveryKind


@strawberry.type(name="ImDestination", description="A member's IM webhook (the URL itself, "
                                                    "which holds a credential, is never shown).")
class ImDestinationType:
    id: strawberry.ID
    provider: ImProvider
    name: str
    webhook_host: str
    has_secret: bool
    created_at: datetime
    direct: bool = strawberry.field(description="Direct messages to you through the provider's "
                                                "app (no webhook: webhookHost is empty).")

    @classmethod
    def from_model(cls, d: ImDestination) -> ImDestinationType:
        return cls(id=strawberry.ID(d.id), provider=d.provider, name=d.name,
                   webhook_host=urlparse(d.webhook_url).hostname or "",
                   has_secret=bool(d.secret), created_at=d.created_at,
                   direct=bool(d.recipient))

    @strawberry.field(description="The pages this destination is subscribed to (only its "
                                  "owner sees them; end one with unsubscribe(subscriberId)).")
    async def subscriptions(self, info: Info) -> list[SubscriberType]:
        # Only the actor's own destinations have any: load all of those once per request.
        context = info.context
        if context.im_subscriptions is None:
            context.im_subscriptions = asyncio.ensure_future(_my_subscriptions(info))
        mine = await context.im_subscriptions
        return mine.get(str(self.id), [])


async def _my_subscriptions(info: Info) -> dict[str, list[SubscriberType]]:
    found = await subscribers.destination_subscriptions(actor=info.context.actor)
    made = await subscriber_types([s for rows in found.values() for s in rows])
    by_id = {t.id: t for t in made}
    return {dest: [by_id[strawberry.ID(s.id)] for s in rows] for dest, rows in found.items()}


@strawberry.type(name="Subscriber")
class SubscriberType:
    id: strawberry.ID
    page_id: strawberry.ID
    channel: SubscriberChannel
    email: str | None
    destination: ImDestinationType | None
    state: SubscriberState
    component_ids: list[strawberry.ID] = strawberry.field(
        description="Chosen components; empty with no eventId means the whole page.")
    event_id: strawberry.ID | None
    created_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None

    @classmethod
    def from_model(cls, s: Subscriber, component_ids: list[str],
                   destination: ImDestination | None) -> SubscriberType:
        return cls(
            id=strawberry.ID(s.id), page_id=strawberry.ID(s.page_id), channel=s.channel,
            email=s.email,
            destination=ImDestinationType.from_model(destination) if destination else None,
            state=s.state, component_ids=[strawberry.ID(c) for c in component_ids],
            event_id=strawberry.ID(s.event_id) if s.event_id else None,
            created_at=s.created_at, confirmed_at=s.confirmed_at,
            unsubscribed_at=s.unsubscribed_at,
        )


async def subscriber_types(rows: list[Subscriber]) -> list[SubscriberType]:
    """Types for many subscribers with two queries (scopes and destinations)."""
    ids = [s.id for s in rows]
    scopes: dict[str, list[str]] = defaultdict(list)
    for sid, cid in await SubscriberComponent.filter(subscriber_id__in=ids).values_list(
            "subscriber_id", "component_id"):
        scopes[str(sid)].append(str(cid))
    dest_ids = [s.destination_id for s in rows if s.destination_id]
    dests = {d.id: d for d in await ImDestination.filter(id__in=dest_ids)} if dest_ids else {}
    return [SubscriberType.from_model(s, scopes[s.id], dests.get(s.destination_id or ""))
            for s in rows]


@strawberry.type(name="Delivery", description="One message to one subscriber: a notification "
                                              "of an update, or a confirmation / manage mail.")
class DeliveryType:
    id: strawberry.ID
    kind: DeliveryKind
    status: DeliveryStatus
    update_id: strawberry.ID | None
    attempts: int
    last_error: str | None = strawberry.field(description="Why it failed or waits.")
    message_id: str
    next_attempt_at: datetime | None
    sent_at: datetime | None
    created_at: datetime
    subscriber: SubscriberType


@strawberry.type
class SubscriberList:
    total_count: int
    nodes: list[SubscriberType]


@strawberry.type
class DeliveryList:
    total_count: int
    nodes: list[DeliveryType]


@strawberry.type
class EmailQuota:
    limit: int | None = strawberry.field(description="Mails per UTC month; null: unlimited.")
    used: int
    waiting: int


@strawberry.type(description="Confirmation and manage-link mails this page may send per clock "
                             "hour (UTC) to addresses given to `subscribe`; over it, "
                             "`subscribe` answers RATE_LIMITED and sends nothing.")
class SubscribeBudget:
    limit: int | None = strawberry.field(description="Mails per hour; null: unlimited.")
    sent_this_hour: int = strawberry.field(description="Mails queued in this clock hour.")
    resets_at: datetime

    @classmethod
    async def of(cls, info: Info, page_id: str) -> SubscribeBudget:
        found = await subscribers.subscribe_budget(actor=info.context.actor, page_id=page_id)
        return cls(limit=found.limit, sent_this_hour=found.sent_this_hour,
                   resets_at=found.resets_at)


@strawberry.type
class DeliverySummary:
    pending: int
    sent: int
    failed: int
    waiting_quota: int
    cancelled: int
    email_quota: EmailQuota


# ---- inputs and payloads ------------------------------------------------------------------


@strawberry.input
class SubscribeInput:
    page_slug: str
    email: str | None = None
    im_destination_id: strawberry.ID | None = None
    component_ids: list[strawberry.ID] | None = None
    event_id: strawberry.ID | None = None


@strawberry.type
class SubscribePayload:
    message: str


@strawberry.input
class BindImDestinationInput:
    provider: ImProvider
    webhook_url: str
    name: str = ""
    secret: str | None = strawberry.field(
        default=None, description="Signing secret (Feishu, DingTalk), when the bot has one.")


@strawberry.type
class BindImDestinationPayload:
    destination: ImDestinationType


@strawberry.input
class DeleteImDestinationInput:
    id: strawberry.ID


@strawberry.type
class DeleteImDestinationPayload:
    deleted_im_destination_id: strawberry.ID


@strawberry.input
class UpdateSubscriptionInput:
    subscriber_id: strawberry.ID | None = strawberry.field(
        default=None, description="For page managers, or the owner of an IM subscription.")
    token: str | None = strawberry.field(
        default=None, description="The signed token of a manage link, for subscribers.")
    component_ids: list[strawberry.ID] | None = None
    event_id: strawberry.ID | None = None


@strawberry.type
class UpdateSubscriptionPayload:
    subscriber: SubscriberType


@strawberry.input
class UnsubscribeInput:
    subscriber_id: strawberry.ID | None = None
    token: str | None = strawberry.field(
        default=None, description="The signed token of a manage or unsubscribe link.")


@strawberry.type
class UnsubscribePayload:
    subscriber: SubscriberType


SubscribeResult = Annotated[
    SubscribePayload | CommonErrors | RateLimitedError,
    strawberry.union("SubscribeResult"),
]
BindImDestinationResult = Annotated[
    BindImDestinationPayload | CommonErrors,
    strawberry.union("BindImDestinationResult"),
]
DeleteImDestinationResult = Annotated[
    DeleteImDestinationPayload | CommonErrors,
    strawberry.union("DeleteImDestinationResult"),
]
UpdateSubscriptionResult = Annotated[
    UpdateSubscriptionPayload | CommonErrors,
    strawberry.union("UpdateSubscriptionResult"),
]
UnsubscribeResult = Annotated[
    UnsubscribePayload | CommonErrors,
    strawberry.union("UnsubscribeResult"),
]


def _ids(values: list[strawberry.ID] | None) -> list[str] | None:
    return None if values is None else [str(v) for v in values]


def _client_ip(info: Info) -> str | None:
    request = info.context.request
    client = getattr(request, "client", None)
    return client.host if client else None


async def _one(subscriber: Subscriber) -> SubscriberType:
    return (await subscriber_types([subscriber]))[0]


@strawberry.type
class Query:
    @strawberry.field(description="Your IM destinations (signed-in members).",
                      extensions=guard_query(Policy.SIGNED_IN))
    async def im_destinations(self, info: Info) -> list[ImDestinationType]:
        rows = await im.my_destinations(actor=info.context.actor)
        return [ImDestinationType.from_model(d) for d in rows]

    @strawberry.field(description="A page's subscribers, newest first (page management).",
                      extensions=guard_query(Policy.PAGE_MANAGEMENT))
    async def subscribers(self, info: Info, page_id: strawberry.ID,
                          state: SubscriberState | None = None, first: int = 100,
                          offset: int = 0) -> SubscriberList:
        total, rows = await deliveries.subscribers(
            actor=info.context.actor, page_id=str(page_id), state=state, first=first,
            offset=offset)
        return SubscriberList(total_count=total, nodes=await subscriber_types(rows))

    @strawberry.field(description="A page's deliveries — per update, per subscriber, by "
                                  "status — newest first, with why they failed or wait.",
                      extensions=guard_query(Policy.PAGE_MANAGEMENT))
    async def deliveries(self, info: Info, page_id: strawberry.ID,
                         update_id: strawberry.ID | None = None,
                         subscriber_id: strawberry.ID | None = None,
                         status: DeliveryStatus | None = None, first: int = 100,
                         offset: int = 0) -> DeliveryList:
        total, rows = await deliveries.deliveries(
            actor=info.context.actor, page_id=str(page_id),
            update_id=str(update_id) if update_id else None,
            subscriber_id=str(subscriber_id) if subscriber_id else None, status=status,
            first=first, offset=offset)
        subs = await Subscriber.filter(id__in=list({d.subscriber_id for d in rows}))
        types = {t.id: t for t in await subscriber_types(list(subs))}
        return DeliveryList(total_count=total, nodes=[_delivery(d, types) for d in rows])

    @strawberry.field(description="Delivery counts by status (one update or the whole page) "
                                  "and this month's email quota.",
                      extensions=guard_query(Policy.PAGE_MANAGEMENT))
    async def delivery_summary(self, info: Info, page_id: strawberry.ID,
                               update_id: strawberry.ID | None = None) -> DeliverySummary:
        actor = info.context.actor
        counts = await deliveries.delivery_counts(
            actor=actor, page_id=str(page_id), update_id=str(update_id) if update_id else None)
        q = await deliveries.email_quota(actor=actor, page_id=str(page_id))
        S = e.DeliveryStatus
        return DeliverySummary(
            pending=counts[S.PENDING], sent=counts[S.SENT], failed=counts[S.FAILED],
            waiting_quota=counts[S.WAITING_QUOTA], cancelled=counts[S.CANCELLED],
            email_quota=EmailQuota(limit=q.limit, used=q.used, waiting=q.waiting))


def _delivery(d: Delivery, subs: dict[strawberry.ID, SubscriberType]) -> DeliveryType:
    done = d.status in (e.DeliveryStatus.SENT, e.DeliveryStatus.FAILED,
                        e.DeliveryStatus.CANCELLED)
    return DeliveryType(
        id=strawberry.ID(d.id), kind=d.kind, status=d.status,
        update_id=strawberry.ID(d.update_id) if d.update_id else None, attempts=d.attempts,
        last_error=d.last_error, message_id=d.message_id,
        next_attempt_at=None if done else d.next_attempt_at, sent_at=d.sent_at,
        created_at=d.created_at, subscriber=subs[strawberry.ID(d.subscriber_id)])


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.ANYONE), description=(
        "Subscribe an email address (public pages; double opt-in — the answer is the same "
        "whether the address is new, pending or confirmed) or your IM destination (internal "
        "pages). componentIds or eventId narrow the scope (not both)."))
    async def subscribe(self, info: Info, input: SubscribeInput) -> SubscribeResult:
        message = await subscribers.subscribe(
            actor=info.context.actor, page_slug=input.page_slug, email=input.email,
            im_destination_id=str(input.im_destination_id) if input.im_destination_id
            else None,
            component_ids=_ids(input.component_ids),
            event_id=str(input.event_id) if input.event_id else None, ip=_client_ip(info))
        return SubscribePayload(message=message)

    @strawberry.mutation(extensions=guard(Policy.SIGNED_IN))
    async def bind_im_destination(self, info: Info, input: BindImDestinationInput
                                  ) -> BindImDestinationResult:
        destination = await im.bind_destination(
            actor=info.context.actor, provider=input.provider, webhook_url=input.webhook_url,
            name=input.name, secret=input.secret)
        return BindImDestinationPayload(destination=ImDestinationType.from_model(destination))

    @strawberry.mutation(extensions=guard(Policy.SIGNED_IN))
    async def delete_im_destination(self, info: Info, input: DeleteImDestinationInput
                                    ) -> DeleteImDestinationResult:
        deleted = await im.delete_destination(actor=info.context.actor,
                                              destination_id=str(input.id))
        return DeleteImDestinationPayload(deleted_im_destination_id=strawberry.ID(deleted))

    @strawberry.mutation(extensions=guard(Policy.ANYONE), description=(
        "Change a subscription's scope: page managers by subscriberId, subscribers with the "
        "token of their manage link."))
    async def update_subscription(self, info: Info, input: UpdateSubscriptionInput
                                  ) -> UpdateSubscriptionResult:
        subscriber = await subscribers.update_subscription(
            actor=info.context.actor,
            subscriber_id=str(input.subscriber_id) if input.subscriber_id else None,
            token=input.token, component_ids=_ids(input.component_ids),
            event_id=str(input.event_id) if input.event_id else None)
        return UpdateSubscriptionPayload(subscriber=await _one(subscriber))

    @strawberry.mutation(extensions=guard(Policy.ANYONE), description=(
        "End a subscription (idempotent): page managers by subscriberId, subscribers with a "
        "signed token."))
    async def unsubscribe(self, info: Info, input: UnsubscribeInput) -> UnsubscribeResult:
        subscriber = await subscribers.unsubscribe(
            actor=info.context.actor,
            subscriber_id=str(input.subscriber_id) if input.subscriber_id else None,
            token=input.token)
        return UnsubscribePayload(subscriber=await _one(subscriber))
