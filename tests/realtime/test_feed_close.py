"""Closing a page's live feed ends its worker even when the cancellation is lost on the way
(as Python 3.11's wait_for loses one when its inner future completes in the same loop turn)."""

from __future__ import annotations

import asyncio

import pytest

from realtime.feed import Feed
from realtime.hub import Hub
from realtime.messages import PageChange

pytestmark = pytest.mark.onepass


async def test_closing_ends_a_feed_whose_reload_swallowed_the_cancellation() -> None:
    local = Hub()
    await local.start("memory://")
    reloading = asyncio.Event()
    loads = 0

    async def load(page_id: str) -> tuple[str, int]:
        nonlocal loads
        loads += 1
        if loads > 1:  # the reload after a change: close() cancels it here, and it is lost
            reloading.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                pass
        return f"state {loads}", loads

    feed: Feed[str] = Feed(local, "page", load)
    assert await feed.open()
    working = feed._task
    assert working is not None
    await local.publish(PageChange("page", 2, "PAGE_EDITED"))
    await asyncio.wait_for(reloading.wait(), 5)
    # asyncio.wait, not wait_for: a timeout's cancellation would reach the worker too.
    closing = asyncio.ensure_future(feed.close())
    try:
        await asyncio.wait({closing}, timeout=10)
        assert closing.done() and working.done()
    finally:
        for task in (closing, working):
            task.cancel()  # nothing left running into later tests, even when this one failed
        await asyncio.gather(closing, working, return_exceptions=True)
        await local.stop()
