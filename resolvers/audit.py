"""The audit log: who did what, when; written in the same transaction as the action."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models import AuditEntry
from resolvers.auth import Actor


async def record(
    actor: Actor,
    action: str,
    *,
    target_type: str,
    target_id: str,
    page_id: str | None = None,
    detail: dict[str, Any] | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> None:
    """Append one audit entry (pass the transaction's connection)."""
    await AuditEntry.create(
        actor_id=actor.user_id,
        actor_email=actor.user.email if actor.user else (actor.label or ""),
        action=action,
        target_type=target_type,
        target_id=target_id,
        page_id=page_id,
        detail=detail or {},
        using_db=conn,
    )
