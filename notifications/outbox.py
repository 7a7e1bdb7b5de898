"""What is owed for an update, recorded in the publishing transaction."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from models import EventUpdate, NotificationJob


async def enqueue(update: EventUpdate, page_id: str, conn: BaseDBAsyncClient) -> None:
    """Record one notification job for a notifying update (call inside the transaction)."""
    if update.notify:
        await NotificationJob.create(page_id=page_id, update_id=update.id, using_db=conn)
