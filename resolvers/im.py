"""IM destinations: a signed-in member binds their own Slack, Feishu, DingTalk, WeCom,
Microsoft Teams or Discord webhooks, or direct messages through an app an administrator set up
(Slack, Feishu, WeCom), and subscribes them to internal pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from tortoise.transactions import in_transaction

from models import ImDestination, OidcIdentity, User
from models.enums import ImProvider
from notifications import direct
from notifications.registry import host_allowed, hosts_text, provider_for
from resolvers import throttle, validate
from resolvers.auth import Actor, require_authenticated
from resolvers.errors import RATE_LIMITED, DomainError, conflict, invalid, not_found
from settings import get_settings

MAX_PER_USER = 50
# Each binding asks the provider (with the app's token): a member may try this many an hour.
LOOKUPS_PER_HOUR = 20


def check_webhook(provider: ImProvider, url: str) -> str:
    """An http(s) URL; in production, https on the provider's own host (no requests to
    internal addresses through a webhook)."""
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or len(url) > 1000:
        raise invalid("Give the webhook's full https:// address", "webhookUrl")
    if get_settings().production:
        hosts = provider_for(provider).HOSTS
        if parsed.scheme != "https" or not host_allowed(hosts, parsed.hostname):
            raise invalid(f"A {provider.value.title()} webhook is an https address on "
                          f"{hosts_text(hosts)}", "webhookUrl")
    return url


async def bind_destination(*, actor: Actor, provider: ImProvider, webhook_url: str,
                           name: str = "", secret: str | None = None) -> ImDestination:
    """Bind one of the caller's IM webhooks (the secret signs Feishu/DingTalk requests)."""
    user = require_authenticated(actor)
    url = check_webhook(provider, webhook_url)
    label = validate.text(name, "name", maximum=200, required=False)
    secret = (secret or "").strip() or None
    if secret is not None and len(secret) > 200:
        raise invalid("The secret is at most 200 characters", "secret")
    async with in_transaction() as conn:
        await _lock_bindings(user.id, conn)
        await _check_room(user.id, conn, "webhookUrl")
        return await ImDestination.create(user_id=user.id, provider=provider,
                                          webhook_url=url, name=label, secret=secret,
                                          using_db=conn)


async def _lock_bindings(user_id: str, conn: Any) -> None:
    """The user's row is the lock: two bindings at once count one after the other."""
    if conn.capabilities.dialect == "postgres":
        await User.filter(id=user_id).using_db(conn).select_for_update().first()


async def _check_room(user_id: str, conn: Any, field: str) -> None:
    """Refused when the user already has MAX_PER_USER destinations (`field`: the one named)."""
    if await ImDestination.filter(user_id=user_id).using_db(conn).count() >= MAX_PER_USER:
        raise invalid(f"You can bind at most {MAX_PER_USER} IM destinations", field)


def direct_providers() -> list[ImProvider]:
    """The providers through which an administrator set up direct messages."""
    apps = get_settings().im_apps
    return [p for p in direct.SUPPORTED if any(a.provider == p.value for a in apps)]


async def _email_vouched_for(user: User) -> bool:
    """An account's address someone vouched for: an administrator created the account, or the
    single sign-on provider said it verified the address (docs/sign-in.md). An account single
    sign-on created for a member admitted by group may carry an address nobody verified."""
    identities = await OidcIdentity.filter(user_id=user.id).values_list("email_verified",
                                                                        flat=True)
    return not identities or any(identities)


async def bind_direct(*, actor: Actor, provider: ImProvider, name: str = "") -> ImDestination:
    """Direct messages to the caller through the provider's app: the provider finds the
    caller by the email address of their account (so the messages reach nobody else)."""
    user = require_authenticated(actor)
    label = validate.text(name, "name", maximum=200, required=False)
    app = get_settings().im_app(provider.value)
    if app is None or provider not in direct.SUPPORTED:
        raise invalid(f"Direct messages on {direct.name_of(provider.value)} are not set up "
                      "here: ask an administrator", "provider")
    if not await _email_vouched_for(user):
        raise invalid(f"Your email address {user.email} was not verified by the single sign-on "
                      "provider, so direct messages cannot find you by it: ask an "
                      "administrator", "provider")
    async with in_transaction() as conn:
        if not await throttle.hit(throttle.Limit(f"direct-lookup:{user.id}", LOOKUPS_PER_HOUR,
                                                 throttle.HOUR), conn):
            raise DomainError(RATE_LIMITED, "Too many direct-message bindings tried this "
                                            "hour: wait a while and try again")
    try:
        recipient = await direct.lookup(app, user.email)
    except direct.DirectError as exc:
        raise invalid(str(exc), "provider") from None
    async with in_transaction() as conn:
        await _lock_bindings(user.id, conn)
        if await ImDestination.filter(user_id=user.id, provider=provider, recipient=recipient
                                      ).using_db(conn).exists():
            raise conflict(f"You already get direct messages on {direct.name_of(provider.value)}",
                           "provider")
        await _check_room(user.id, conn, "provider")
        return await ImDestination.create(user_id=user.id, provider=provider, webhook_url="",
                                          recipient=recipient, name=label, using_db=conn)


async def my_destinations(*, actor: Actor) -> list[ImDestination]:
    """The caller's bindings, oldest first."""
    user = require_authenticated(actor)
    return list(await ImDestination.filter(user_id=user.id).order_by("created_at"))


async def delete_destination(*, actor: Actor, destination_id: str) -> str:
    """Remove one of the caller's bindings and its subscriptions."""
    user = require_authenticated(actor)
    destination = await ImDestination.filter(id=destination_id, user_id=user.id).first()
    if destination is None:
        raise not_found("IM destination", "id")
    await destination.delete()
    return destination_id
