"""The per-page sequence number and the change signal sent after commit."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from models import StatusPage
from models.base import utcnow
from realtime import PageChange, publish_change

__all__ = ["PageChange", "announce", "bump"]


async def bump(page_id: str, conn: BaseDBAsyncClient) -> int:
    """Increment the page's sequence inside the caller's transaction; return the new value."""
    await StatusPage.filter(id=page_id).using_db(conn).update(
        sequence=F("sequence") + 1, updated_at=utcnow()
    )
    page = await StatusPage.filter(id=page_id).using_db(conn).only("id", "sequence").get()
    return int(page.sequence)


async def announce(change: PageChange) -> None:
    """After commit: hand the change to realtime (every process); never raises."""
    await publish_change(change)
