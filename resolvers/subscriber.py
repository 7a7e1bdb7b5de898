"""Subscribing (email with double opt-in on public pages, IM on internal pages), confirming,
changing scope and leaving — by the subscriber through signed links, or by page managers."""

from __future__ import annotations

import enum
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

import i18n
from i18n import N_
from models import (
    Component,
    Delivery,
    Event,
    ImDestination,
    StatusPage,
    Subscriber,
    SubscriberComponent,
)
from models.base import new_id, utcnow
from models.enums import (
    DeliveryKind,
    DeliveryStatus,
    Role,
    SubscriberChannel,
    SubscriberState,
    Visibility,
)
from notifications import links
from notifications.expand import message_id
from resolvers import audit, throttle
from resolvers.auth import Actor, require_authenticated, require_role
from resolvers.errors import RATE_LIMITED, DomainError, invalid, not_found
from resolvers.page import visible_page
from resolvers.subscription_scope import scope, set_components, wake_worker
from resolvers.validate import normalise_email
from settings import get_settings

CONFIRM_HOURS = 48
EMAIL_MESSAGE = N_("Thanks! If this address can receive mail from us, a message is on its "
                   "way: follow its link to confirm. Nothing is sent before that.")
OUTSTANDING = (DeliveryStatus.PENDING, DeliveryStatus.WAITING_QUOTA)


# Subscription abuse limits, shared by every process (resolvers/throttle.py; see
# docs/notifications.md).
NETWORK_PER_HOUR = 30  # subscribe requests per client network (IPv4 /24, IPv6 /64): RATE_LIMITED
MAILBOX_PER_HOUR = 5  # confirmation / manage-link mails per mailbox (any page): silently none
MAILBOX_PER_DAY = 10
UNLIMITED = 2**31 - 1


class Refusal(enum.Enum):
    NETWORK = "network"  # answered RATE_LIMITED: the caller learns about their own network
    MAILBOX = "mailbox"  # answered like a success: nothing is said about an address
    BUDGET = "budget"  # answered RATE_LIMITED: the page's hourly mail budget is spent


@dataclass(frozen=True)
class SubscribeBudget:
    limit: int | None  # None: unlimited
    sent_this_hour: int
    resets_at: datetime


def budget_limit(page_id: str) -> throttle.Limit:
    """The page's hourly budget of confirmation and manage-link mails."""
    budget = get_settings().subscribe_mail_budget
    return throttle.Limit(f"budget:{page_id}", budget or UNLIMITED, throttle.HOUR)


def _mailbox_limits(address: str) -> list[throttle.Limit]:
    key = throttle.mailbox_key(address)
    return [throttle.Limit(key + ":h", MAILBOX_PER_HOUR, throttle.HOUR),
            throttle.Limit(key + ":d", MAILBOX_PER_DAY, throttle.DAY)]


async def _admit(page: StatusPage, address: str, ip: str | None, now: float,
                 conn: BaseDBAsyncClient) -> Refusal | None:
    """Count this request against the limits (in the caller's transaction); the refusal,
    if any. A refused hit counts nothing, and no mail is counted that will not be sent."""
    if ip and not await throttle.hit(throttle.Limit(
            "network:" + throttle.network(ip), NETWORK_PER_HOUR, throttle.HOUR), conn, now):
        return Refusal.NETWORK
    counted: list[throttle.Limit] = []
    for limit in (*_mailbox_limits(address), budget_limit(page.id)):
        if not await throttle.hit(limit, conn, now):
            for earlier in counted:
                await throttle.unhit(earlier, conn, now)
            return Refusal.BUDGET if limit.key.startswith("budget:") else Refusal.MAILBOX
        counted.append(limit)
    return None


async def subscribe_budget(*, actor: Actor, page_id: str) -> SubscribeBudget:
    """The page's confirmation-mail budget and what this clock hour has used (managers)."""
    require_role(actor, Role.PAGE_MANAGEMENT, page_id)
    limit = budget_limit(page_id)
    now = time.time()
    start = throttle.window_of(limit, now)
    return SubscribeBudget(limit=get_settings().subscribe_mail_budget or None,
                           sent_this_hour=await throttle.hits(limit, now),
                           resets_at=datetime.fromtimestamp(start + limit.window, UTC))


def _rate_limited(refusal: Refusal) -> DomainError:
    if refusal is Refusal.BUDGET:
        return DomainError(RATE_LIMITED, "This page has sent all the confirmation mails it "
                                         "may this hour; try again later")
    return DomainError(RATE_LIMITED, "Too many subscription requests from your network; "
                                     "try again later")


async def _scope_words(component_ids: list[str], event: Event | None,
                       language: str | None = None) -> str:
    """What a subscription follows, in words of the page's language (for its mails)."""
    with i18n.using(language):
        if event is not None:
            return i18n.gettext("about “%(title)s”") % {"title": event.title}
        if component_ids:
            names = await Component.filter(id__in=component_ids).order_by(
                "position").values_list("name", flat=True)
            return i18n.gettext("for %(names)s") % {
                "names": i18n.gettext(", ").join(str(n) for n in names)}
        return i18n.gettext("for every component")


async def _mail(subscriber: Subscriber, kind: DeliveryKind, payload: dict[str, object],
                conn: BaseDBAsyncClient) -> None:
    """A confirmation or manage-link mail, durable like any delivery."""
    delivery_id = new_id()
    await Delivery.create(id=delivery_id, page_id=subscriber.page_id,
                          subscriber_id=subscriber.id, kind=kind, payload=payload,
                          message_id=message_id(delivery_id), using_db=conn)


async def subscribe(*, actor: Actor, page_slug: str, email: str | None = None,
                    im_destination_id: str | None = None,
                    component_ids: list[str] | None = None, event_id: str | None = None,
                    ip: str | None = None) -> str:
    """Subscribe an address (public pages) or the caller's IM destination (internal pages);
    return the message to show. Email answers the same whatever the address's state."""
    page = await visible_page(actor, slug=page_slug)
    if page is None:
        raise not_found("Page", "pageSlug")
    if (email is None) == (im_destination_id is None):
        raise invalid("Give an email address or an IM destination",
                      "email" if email is None else "imDestinationId")
    if email is not None:
        return await _subscribe_email(page, email, component_ids, event_id, ip)
    assert im_destination_id is not None
    return await _subscribe_im(actor, page, im_destination_id, component_ids, event_id)


async def _subscribe_email(page: StatusPage, email: str, component_ids: list[str] | None,
                           event_id: str | None, ip: str | None) -> str:
    if page.visibility != Visibility.PUBLIC:
        raise invalid("This page takes IM subscriptions, not email", "email")
    address = normalise_email(email, plain=True)
    ids, event = await scope(page, component_ids, event_id)
    now = utcnow()
    async with in_transaction() as conn:
        # The counters and the subscription are one transaction: a request either counts and
        # queues its mail, or is refused having counted only what it was refused at.
        refusal = await _admit(page, address, ip, now.timestamp(), conn)
        if refusal is None:
            await _queue_mail(page, address, ids, event, now, conn)
    await throttle.prune()
    if refusal in (Refusal.NETWORK, Refusal.BUDGET):
        raise _rate_limited(refusal)
    if refusal is None:
        wake_worker()
    return EMAIL_MESSAGE


async def _queue_mail(page: StatusPage, address: str, ids: list[str], event: Event | None,
                      now: datetime, conn: BaseDBAsyncClient) -> None:
    """A pending address gets a (new) confirmation mail; a confirmed one its manage link."""
    # No race on creating the row: `_admit` has locked this mailbox's counter row (the
    # upsert), so a concurrent request for the same address waits for this commit.
    subscriber = await (Subscriber.filter(page_id=page.id, email=address).using_db(conn)
                        .select_for_update().first())
    if subscriber is not None and subscriber.state == SubscriberState.CONFIRMED:
        # Already confirmed: change nothing, mail a manage link instead.
        await _mail(subscriber, DeliveryKind.MANAGE_LINK,
                    {"link": links.manage_url(subscriber.id, page.slug)}, conn)
        return
    token, token_hash = links.new_confirm_token()
    fields = dict(state=SubscriberState.PENDING, confirm_token_hash=token_hash,
                  confirm_expires_at=now + timedelta(hours=CONFIRM_HOURS),
                  event_id=event.id if event else None, updated_at=now, unsubscribed_at=None)
    if subscriber is None:
        subscriber = await Subscriber.create(page_id=page.id, channel=SubscriberChannel.EMAIL,
                                             email=address, using_db=conn, **fields)
    else:
        await Subscriber.filter(id=subscriber.id).using_db(conn).update(**fields)
    await set_components(subscriber.id, ids, conn)
    await _mail(subscriber, DeliveryKind.CONFIRMATION, {
        "link": links.confirm_url(token, page.slug), "hours": CONFIRM_HOURS,
        "scope": await _scope_words(ids, event, page.language)}, conn)


async def _subscribe_im(actor: Actor, page: StatusPage, destination_id: str,
                        component_ids: list[str] | None, event_id: str | None) -> str:
    user = require_authenticated(actor)
    if page.visibility != Visibility.INTERNAL:
        raise invalid("Public pages take email subscriptions; IM is for internal pages",
                      "imDestinationId")
    destination = await ImDestination.filter(id=destination_id, user_id=user.id).first()
    if destination is None:
        raise not_found("IM destination", "imDestinationId")
    ids, event = await scope(page, component_ids, event_id)
    now = utcnow()
    fields = dict(state=SubscriberState.CONFIRMED, confirmed_at=now, unsubscribed_at=None,
                  event_id=event.id if event else None, updated_at=now)
    async with in_transaction() as conn:
        subscriber = await Subscriber.filter(page_id=page.id, destination_id=destination.id
                                             ).using_db(conn).select_for_update().first()
        if subscriber is None:
            subscriber = await Subscriber.create(
                page_id=page.id, channel=SubscriberChannel.IM, destination_id=destination.id,
                using_db=conn, **fields)
        else:
            await Subscriber.filter(id=subscriber.id).using_db(conn).update(**fields)
        await set_components(subscriber.id, ids, conn)
    label = destination.name or destination.provider.value.title()
    return f"{label} will receive updates of {page.name} {await _scope_words(ids, event)}."


async def confirm(*, token: str) -> Subscriber | None:
    """Confirm a pending subscription (single use, before expiry); None when the link is
    unknown, used or expired."""
    now = utcnow()
    async with in_transaction() as conn:
        subscriber = await (Subscriber.filter(confirm_token_hash=links.hash_token(token))
                            .using_db(conn).select_for_update().first())
        if subscriber is None or subscriber.state != SubscriberState.PENDING:
            return None
        expires = subscriber.confirm_expires_at
        if expires is None or expires < now:
            return None
        await Subscriber.filter(id=subscriber.id).using_db(conn).update(
            state=SubscriberState.CONFIRMED, confirmed_at=now, confirm_token_hash=None,
            confirm_expires_at=None, updated_at=now)
    subscriber.state = SubscriberState.CONFIRMED
    subscriber.confirmed_at = now
    return subscriber


async def by_manage_token(token: str) -> Subscriber | None:
    """The subscriber a signed manage link names (None when forged or gone)."""
    subscriber_id = links.subscriber_from_manage_token(token)
    return await Subscriber.filter(id=subscriber_id).first() if subscriber_id else None


async def by_unsubscribe_token(token: str) -> Subscriber | None:
    """The subscriber a signed unsubscribe link names (None when forged or gone)."""
    subscriber_id = links.subscriber_from_unsubscribe_token(token)
    return await Subscriber.filter(id=subscriber_id).first() if subscriber_id else None


async def _authorised(actor: Actor, *, subscriber_id: str | None, token: str | None
                      ) -> Subscriber:
    """The subscriber named by a signed token; or by id, for a manager of its page or the
    member whose IM destination it is."""
    if token:
        subscriber = await by_manage_token(token) or await by_unsubscribe_token(token)
        if subscriber is None:
            raise not_found("Subscription", "token")
        return subscriber
    if not subscriber_id:
        raise invalid("Give a subscriber id or a signed token", "subscriberId")
    require_authenticated(actor)
    subscriber = await Subscriber.filter(id=subscriber_id).first()
    if subscriber is not None and subscriber.destination_id and await ImDestination.filter(
            id=subscriber.destination_id, user_id=actor.user_id).exists():
        return subscriber  # the member's own IM subscription
    require_role(actor, Role.PAGE_MANAGEMENT, subscriber.page_id if subscriber else None)
    if subscriber is None:
        raise not_found("Subscriber", "subscriberId")
    return subscriber


async def destination_subscriptions(*, actor: Actor) -> dict[str, list[Subscriber]]:
    """The live (not ended) subscriptions of the actor's own IM destinations, by destination
    (one query however many destinations)."""
    if actor.user_id is None:
        return {}
    rows = await Subscriber.filter(destination__user_id=actor.user_id).exclude(
        state=SubscriberState.UNSUBSCRIBED).order_by("created_at", "id")
    found: dict[str, list[Subscriber]] = defaultdict(list)
    for row in rows:
        found[str(row.destination_id)].append(row)
    return found


async def update_subscription(*, actor: Actor, subscriber_id: str | None = None,
                              token: str | None = None, component_ids: list[str] | None = None,
                              event_id: str | None = None) -> Subscriber:
    """Change what a subscriber receives (no components and no event: the whole page)."""
    subscriber = await _authorised(actor, subscriber_id=subscriber_id, token=token)
    if subscriber.state == SubscriberState.UNSUBSCRIBED:
        raise invalid("This subscription has ended; subscribe again", "token")
    page = await StatusPage.get(id=subscriber.page_id)
    ids, event = await scope(page, component_ids, event_id)
    async with in_transaction() as conn:
        await Subscriber.filter(id=subscriber.id).using_db(conn).update(
            event_id=event.id if event else None, updated_at=utcnow())
        await set_components(subscriber.id, ids, conn)
        if not token:
            await audit.record(actor, "subscriber.update", target_type="subscriber",
                               target_id=subscriber.id, page_id=page.id,
                               detail={"componentIds": ids, "eventId": event_id}, conn=conn)
    subscriber.event_id = event.id if event else None
    return subscriber


async def unsubscribe(*, actor: Actor, subscriber_id: str | None = None,
                      token: str | None = None) -> Subscriber:
    """End a subscription (idempotent) and cancel what it still had waiting."""
    subscriber = await _authorised(actor, subscriber_id=subscriber_id, token=token)
    await end(subscriber)
    if not token:
        await audit.record(actor, "subscriber.unsubscribe", target_type="subscriber",
                           target_id=subscriber.id, page_id=subscriber.page_id)
    return subscriber


async def end(subscriber: Subscriber) -> None:
    """Mark a subscription ended and cancel its outstanding deliveries (idempotent)."""
    if subscriber.state == SubscriberState.UNSUBSCRIBED:
        return
    now = utcnow()
    async with in_transaction() as conn:
        await Subscriber.filter(id=subscriber.id).using_db(conn).update(
            state=SubscriberState.UNSUBSCRIBED, unsubscribed_at=now, confirm_token_hash=None,
            confirm_expires_at=None, updated_at=now)
        await Delivery.filter(subscriber_id=subscriber.id, status__in=OUTSTANDING
                              ).using_db(conn).update(
            status=DeliveryStatus.CANCELLED, last_error="Unsubscribed", payload=None)
    subscriber.state = SubscriberState.UNSUBSCRIBED
    subscriber.unsubscribed_at = now


async def component_ids_of(subscriber_id: str) -> list[str]:
    return [str(c) for c in await SubscriberComponent.filter(
        subscriber_id=subscriber_id).values_list("component_id", flat=True)]


async def pending_for(token: str) -> Subscriber | None:
    """The pending subscription a confirmation link would confirm (nothing is changed)."""
    subscriber = await Subscriber.filter(confirm_token_hash=links.hash_token(token)).first()
    if subscriber is None or subscriber.state != SubscriberState.PENDING:
        return None
    expires = subscriber.confirm_expires_at
    return subscriber if expires is not None and expires >= utcnow() else None


async def scope_view(subscriber: Subscriber
                     ) -> tuple[StatusPage, list[Component], list[str], Event | None]:
    """What a manage page shows: the page, its components, the chosen ones, the event."""
    page = await StatusPage.get(id=subscriber.page_id)
    components = list(await Component.filter(page_id=page.id).order_by("position",
                                                                       "created_at"))
    event = await Event.filter(id=subscriber.event_id).first() if subscriber.event_id else None
    return page, components, await component_ids_of(subscriber.id), event
