"""Alert integrations: create and revoke them (page management), find one by its token, and
accept a parsed payload into the durable inbox (the worker applies it: resolvers.automation)."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from tortoise.transactions import in_transaction

from models import AlertInbox, Integration
from models.base import utcnow
from models.enums import IntegrationKind, Role
from resolvers import audit, validate
from resolvers.account import sha256
from resolvers.alert_payload import Alert
from resolvers.auth import Actor, require_authenticated
from resolvers.errors import not_found
from resolvers.page import managed_page

TOKEN_PREFIX = "hgi"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def webhook_path(kind: IntegrationKind) -> str:
    """Where the integration's sender posts (append `/<token>` or send it as a Bearer)."""
    return f"/integrations/{kind.value.lower()}"


async def integrations_of(*, actor: Actor, page_id: str) -> list[Integration]:
    """The page's integrations, oldest first (revoked ones included, marked)."""
    page = await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    return await Integration.filter(page_id=page.id).order_by("created_at", "id")


async def create_integration(*, actor: Actor, page_id: str, name: str,
                             kind: IntegrationKind) -> tuple[str, Integration]:
    """A new integration: returns (its secret token, shown once; the stored record)."""
    page = await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    name = validate.name(name)
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    async with in_transaction() as conn:
        integration = await Integration.create(page_id=page.id, name=name, kind=kind,
                                               prefix=prefix, token_hash=sha256(secret),
                                               using_db=conn)
        await audit.record(actor, "integration.create", target_type="integration",
                           target_id=integration.id, page_id=page.id,
                           detail={"name": name, "kind": kind.value}, conn=conn)
    return secret, integration


async def revoke_integration(*, actor: Actor, integration_id: str) -> Integration:
    """Revoke an integration: its token stops working at once (its alerts' history stays)."""
    require_authenticated(actor)
    integration = await Integration.filter(id=integration_id).first()
    if integration is None:
        raise not_found("Integration", "id")
    await managed_page(actor, integration.page_id, Role.PAGE_MANAGEMENT, "id")
    if integration.revoked_at is None:
        async with in_transaction() as conn:
            integration.revoked_at = utcnow()
            await integration.save(using_db=conn, update_fields=["revoked_at"])
            await audit.record(actor, "integration.revoke", target_type="integration",
                               target_id=integration.id, page_id=integration.page_id,
                               detail={"name": integration.name}, conn=conn)
    return integration


async def integration_for_token(raw: str) -> Integration | None:
    """The live integration a token stands for; None when unknown, malformed or revoked."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) > 16:
        return None
    integration = await Integration.filter(prefix=parts[1]).first()
    if integration is None or integration.revoked_at is not None:
        return None
    if not hmac.compare_digest(integration.token_hash, sha256(raw.strip())):
        return None
    return integration


async def accept(integration: Integration, alerts: list[Alert]) -> AlertInbox:
    """Store a valid payload for the worker (one row, one transaction) before answering."""
    now = utcnow()
    async with in_transaction() as conn:
        row = await AlertInbox.create(integration_id=integration.id, received_at=now,
                                      alerts=[a.to_json() for a in alerts], using_db=conn)
        if (integration.last_used_at is None
                or now - integration.last_used_at > LAST_USED_RESOLUTION):
            await Integration.filter(id=integration.id).using_db(conn).update(last_used_at=now)
    return row
