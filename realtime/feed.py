"""Live feeds: per process and page, one broadcast subscription and one state shared by every
open stream, loaded once per sequence number.

The state itself is opaque here (the schema supplies the loader); this module only orders
changes by sequence, detects gaps, resyncs after a broadcast reconnect and fans messages out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from realtime.backends import cancel_until_done
from realtime.hub import Hub
from realtime.messages import PageChange

log = logging.getLogger("heliograph.realtime")

S = TypeVar("S")
SNAPSHOT = "SNAPSHOT"
MAX_BACKLOG = 64  # a stream further behind than this gets one fresh snapshot instead
RETRY_LOAD = 1.0

# Loads the page's state: (state, its sequence), or None when the page is gone.
Loader = Callable[[str], Awaitable[tuple[S, int] | None]]


@dataclass(frozen=True, slots=True)
class FeedMessage(Generic[S]):
    """One message for every stream of a page (shared, never copied per stream)."""

    kind: str
    sequence: int
    state: S | None  # the page's state after the change; None once the page is deleted
    state_sequence: int
    event_id: str | None = None
    component_ids: tuple[str, ...] = ()

    def as_snapshot(self) -> FeedMessage[S]:
        return replace(self, kind=SNAPSHOT, sequence=self.state_sequence, event_id=None,
                       component_ids=())


_CLOSE: FeedMessage[object] = FeedMessage(kind="CLOSE", sequence=-1, state=None,
                                          state_sequence=-1)


class Feed(Generic[S]):
    """One page's live feed in this process."""

    def __init__(self, hub: Hub, page_id: str, loader: Loader[S]) -> None:
        self.hub = hub
        self.page_id = page_id
        self.loader = loader
        self.queues: set[asyncio.Queue[FeedMessage[S]]] = set()
        self.state: S | None = None
        self.state_sequence = 0
        self.emitted = 0  # the last sequence sent to the streams
        self.closed = False
        self._pending: asyncio.Queue[PageChange | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._snapshot: FeedMessage[S] | None = None

    async def open(self) -> bool:
        """Subscribe (confirmed), then load the state; False when the page does not exist."""
        await self.hub.subscribe(self.page_id, self._on_change)
        try:
            loaded = await self.loader(self.page_id)
        except BaseException:
            await self.hub.unsubscribe(self.page_id, self._on_change)
            raise
        if loaded is None:
            await self.hub.unsubscribe(self.page_id, self._on_change)
            return False
        self.state, self.state_sequence = loaded
        self.emitted = self.state_sequence
        self._task = asyncio.create_task(self._work(), name=f"live-feed-{self.page_id}")
        return True

    async def close(self) -> None:
        self.closed = True
        task, self._task = self._task, None
        if task is not None:
            await cancel_until_done(task)  # (a lost cancellation must not hang the close)
        await self.hub.unsubscribe(self.page_id, self._on_change)

    def snapshot(self) -> FeedMessage[S]:
        """The current state as a SNAPSHOT message, one object per state for all streams."""
        cached = self._snapshot
        if cached is None or cached.state is not self.state:
            cached = FeedMessage(SNAPSHOT, self.state_sequence, self.state, self.state_sequence)
            self._snapshot = cached
        return cached

    def resync(self) -> None:
        """The broadcast reconnected: send every stream a fresh snapshot."""
        self._pending.put_nowait(None)

    def _on_change(self, change: PageChange) -> None:
        if change.sequence > self.emitted:
            self._pending.put_nowait(change)

    async def _reload(self) -> bool:
        loaded = await self.loader(self.page_id)
        if loaded is None:
            self.state = None
            return False
        self.state, self.state_sequence = loaded
        return True

    async def _work(self) -> None:
        while not self.closed:
            change = await self._pending.get()
            try:
                await self._handle(change)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live feed of page %s could not load; retrying", self.page_id)
                await asyncio.sleep(RETRY_LOAD)
                self._pending.put_nowait(None)
            if self.state is None:
                self.closed = True  # the page is gone; a new subscriber starts a new feed
                return

    async def _handle(self, change: PageChange | None) -> None:
        if change is None:
            exists = await self._reload()
            message = self.snapshot()
        else:
            if change.sequence <= self.emitted:
                return  # already sent (the same change came directly and through Redis)
            exists = True
            if change.sequence > self.state_sequence:
                exists = await self._reload()
            if change.sequence == self.emitted + 1 or not exists:
                message = FeedMessage(change.kind, change.sequence, self.state,
                                      self.state_sequence, change.event_id,
                                      change.component_ids)
            else:  # a gap: some change never reached us; the fresh state covers it
                message = self.snapshot()
        self.emitted = max(self.emitted, message.sequence)
        self._emit(message)
        if not exists:
            self._emit(_CLOSE)  # type: ignore[arg-type]

    def _emit(self, message: FeedMessage[S]) -> None:
        behind: FeedMessage[S] | None = None  # the message as a snapshot, made once
        for queue in self.queues:
            if queue.qsize() < MAX_BACKLOG:
                queue.put_nowait(message)
                continue
            # A stream this far behind gets the newest state once, not every step; the
            # streams that keep up still get the change itself.
            while not queue.empty():
                queue.get_nowait()
            if message.kind in (SNAPSHOT, "CLOSE"):
                queue.put_nowait(message)
                continue
            if behind is None:
                behind = message.as_snapshot()
            queue.put_nowait(behind)


class FeedRegistry(Generic[S]):
    """The feeds of this process by page: created by the first stream, closed by the last.

    Opening and closing a page's feed (its broadcast subscription and first load) is
    serialised per page: a slow load or subscribe of one page never holds up another's."""

    def __init__(self, hub: Hub, loader: Loader[S]) -> None:
        self.hub = hub
        self.loader = loader
        self.feeds: dict[str, Feed[S]] = {}
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        self._unlisten: Callable[[], None] | None = None

    def _resync_all(self) -> None:
        for feed in list(self.feeds.values()):
            feed.resync()

    @contextlib.asynccontextmanager
    async def _page_lock(self, page_id: str) -> AsyncIterator[None]:
        """The page's lock, kept only while someone holds or waits for it."""
        entry = self._locks.get(page_id)
        if entry is None:
            entry = self._locks[page_id] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0] and self._locks.get(page_id) is entry:
                del self._locks[page_id]

    @contextlib.asynccontextmanager
    async def stream(self, page_id: str) -> AsyncIterator[AsyncIterator[FeedMessage[S]]]:
        """Join the page's feed; raise LookupError when the page does not exist."""
        if self._unlisten is None:
            self._unlisten = self.hub.add_resync_listener(self._resync_all)
        async with self._page_lock(page_id):
            feed = self.feeds.get(page_id)
            if feed is None or feed.closed:
                feed = Feed(self.hub, page_id, self.loader)
                if not await feed.open():
                    raise LookupError(page_id)
                self.feeds[page_id] = feed
            queue: asyncio.Queue[FeedMessage[S]] = asyncio.Queue()
            feed.queues.add(queue)
            first = feed.snapshot()  # taken together with joining: no change falls between
        self.hub.subscriber_count += 1
        try:
            yield _messages(first, queue)
        finally:
            self.hub.subscriber_count -= 1
            feed.queues.discard(queue)
            if not feed.queues:
                async with self._page_lock(page_id):
                    if not feed.queues:
                        if self.feeds.get(page_id) is feed:
                            del self.feeds[page_id]
                        await feed.close()


async def _messages(first: FeedMessage[S], queue: asyncio.Queue[FeedMessage[S]]
                    ) -> AsyncIterator[FeedMessage[S]]:
    """One stream: the snapshot, then each change in sequence; a gap becomes a snapshot."""
    last = first.sequence
    yield first
    while True:
        message = await queue.get()
        if message.kind == "CLOSE":
            return
        if message.kind == SNAPSHOT:
            if message.sequence < last:
                continue
        elif message.sequence <= last:
            continue
        elif message.sequence != last + 1:
            message = message.as_snapshot()
        last = message.sequence
        yield message
