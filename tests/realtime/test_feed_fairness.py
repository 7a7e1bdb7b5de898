"""The live feed's fairness, without a database: a stream that stops reading only affects
itself, and a page that is slow to open never holds up another page's streams."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from realtime.feed import MAX_BACKLOG, SNAPSHOT, FeedMessage, FeedRegistry
from realtime.hub import Hub
from realtime.messages import PageChange


class Pages:
    """Stands in for the database: each page's state is its current sequence number."""

    def __init__(self) -> None:
        self.sequence: dict[str, int] = {}
        self.gates: dict[str, asyncio.Event] = {}  # a page whose load waits for its gate

    async def load(self, page_id: str) -> tuple[int, int] | None:
        gate = self.gates.get(page_id)
        if gate is not None:
            await gate.wait()
        if page_id not in self.sequence:
            return None
        return self.sequence[page_id], self.sequence[page_id]


async def next_of(stream: AsyncIterator[FeedMessage[int]]) -> FeedMessage[int]:
    return await asyncio.wait_for(anext(stream), 5)


async def test_a_stream_that_stops_reading_does_not_turn_the_others_changes_into_snapshots(
        ) -> None:
    hub, pages = Hub(), Pages()
    pages.sequence["p"] = 0
    registry: FeedRegistry[int] = FeedRegistry(hub, pages.load)
    async with contextlib.AsyncExitStack() as stack:
        # The stalled stream joins among others, so some are served after it.
        streams = [await stack.enter_async_context(registry.stream("p")) for _ in range(9)]
        stalled, readers = streams[4], streams[:4] + streams[5:]
        for stream in streams:
            assert (await next_of(stream)).kind == SNAPSHOT
        changes = MAX_BACKLOG + 8
        for sequence in range(1, changes + 1):
            pages.sequence["p"] = sequence
            await hub.publish(PageChange("p", sequence, "PAGE_EDITED"))
            for reader in readers:
                got = await next_of(reader)
                assert (got.kind, got.sequence) == ("PAGE_EDITED", sequence)
        # The stalled stream, once it reads again, gets the newest state rather than every
        # step it missed.
        caught_up = [await next_of(stalled)]
        while caught_up[-1].sequence < changes:
            caught_up.append(await next_of(stalled))
    assert caught_up[0].kind == SNAPSHOT
    assert len(caught_up) < changes


async def test_a_page_slow_to_load_does_not_hold_up_streams_of_another_page() -> None:
    hub, pages = Hub(), Pages()
    pages.sequence.update({"slow": 1, "quick": 5})
    pages.gates["slow"] = asyncio.Event()
    registry: FeedRegistry[int] = FeedRegistry(hub, pages.load)

    async def first_of(page_id: str) -> FeedMessage[int]:
        async with registry.stream(page_id) as stream:
            return await next_of(stream)

    slow = asyncio.create_task(first_of("slow"))
    try:
        quick = await asyncio.wait_for(first_of("quick"), 2)
        assert not slow.done()
    finally:
        pages.gates["slow"].set()
    assert (quick.kind, quick.sequence) == (SNAPSHOT, 5)
    assert (await asyncio.wait_for(slow, 5)).sequence == 1


class SlowSubscribeHub(Hub):
    """A broadcast whose SUBSCRIBE for one page is not confirmed until released."""

    def __init__(self, slow_page: str) -> None:
        super().__init__()
        self.slow_page = slow_page
        self.release = asyncio.Event()

    async def subscribe(self, page_id: str, consumer: object) -> None:
        if page_id == self.slow_page:
            await self.release.wait()
        await super().subscribe(page_id, consumer)  # type: ignore[arg-type]


async def test_a_page_slow_to_subscribe_does_not_hold_up_streams_of_another_page() -> None:
    hub, pages = SlowSubscribeHub("slow"), Pages()
    pages.sequence.update({"slow": 1, "quick": 5})
    registry: FeedRegistry[int] = FeedRegistry(hub, pages.load)

    async def first_of(page_id: str) -> FeedMessage[int]:
        async with registry.stream(page_id) as stream:
            return await next_of(stream)

    slow = asyncio.create_task(first_of("slow"))
    try:
        quick = await asyncio.wait_for(first_of("quick"), 2)
    finally:
        hub.release.set()
    assert quick.sequence == 5
    assert (await asyncio.wait_for(slow, 5)).sequence == 1
