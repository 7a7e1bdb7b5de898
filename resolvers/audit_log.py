"""Reading the audit log (administrators only)."""

from __future__ import annotations

from datetime import datetime

from models import AuditEntry
from resolvers.auth import Actor, require_admin
from resolvers.errors import invalid

PAGE_MAX = 200


async def entries(*, actor: Actor, first: int = 50, before: datetime | None = None,
                  page_id: str | None = None, action: str | None = None) -> list[AuditEntry]:
    """The newest entries first, optionally for one page or one action, older than `before`."""
    require_admin(actor)
    if not (1 <= first <= PAGE_MAX):
        raise invalid(f"first must be between 1 and {PAGE_MAX}", "first")
    query = AuditEntry.all()
    if before is not None:
        query = query.filter(at__lt=before)
    if page_id:
        query = query.filter(page_id=page_id)
    if action:
        query = query.filter(action=action)
    return await query.order_by("-at", "-id").limit(first)
