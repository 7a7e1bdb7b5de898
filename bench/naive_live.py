"""The plain per-socket `pageUpdates` the fan-out benchmark compares against: every socket
subscribes on its own, loads the page itself and executes its own query per change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.tools import merge_types

import schema as composed
from realtime import hub
from resolvers.page import visible_page
from schema.context import Info
from schema.live import PageUpdate, PageUpdateKind, load_state


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def page_updates(self, info: Info, slug: str) -> AsyncGenerator[PageUpdate, None]:
        page = await visible_page(info.context.actor, slug=slug)
        assert page is not None
        queue: asyncio.Queue[Any] = asyncio.Queue()
        await hub.subscribe(page.id, queue.put_nowait)
        try:
            kind = PageUpdateKind.SNAPSHOT
            while True:
                loaded = await load_state(page.id)
                assert loaded is not None
                state, sequence = loaded
                yield PageUpdate(sequence=sequence, kind=kind, component_ids=[],
                                 state=state, event_id=None)
                change = await queue.get()
                kind = PageUpdateKind(change.kind)
        finally:
            await hub.unsubscribe(page.id, queue.put_nowait)


def naive_schema() -> strawberry.Schema:
    """The application's schema with this subscription in place of the live one."""
    return strawberry.Schema(
        query=merge_types("Query", composed._parts("Query")),
        mutation=merge_types("Mutation", composed._parts("Mutation")),
        subscription=Subscription,
        extensions=composed.extensions(False),
    )
