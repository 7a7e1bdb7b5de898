"""The process's broadcast: publishes page changes after commit and fans them out locally."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from broadcaster import Broadcast

from realtime.messages import PageChange, channel_for

log = logging.getLogger("heliograph.realtime")

Listener = Callable[[PageChange], Awaitable[None] | None]


class Hub:
    """One per process. `publish` never raises: Redis is a signal, the database is the truth."""

    def __init__(self) -> None:
        self.broadcast: Broadcast | None = None
        self.url: str | None = None
        self._local: list[Listener] = []

    @property
    def connected(self) -> bool:
        return self.broadcast is not None

    async def start(self, url: str) -> None:
        self.url = url
        broadcast = Broadcast(url)
        await broadcast.connect()
        self.broadcast = broadcast

    async def stop(self) -> None:
        broadcast, self.broadcast = self.broadcast, None
        if broadcast is not None:
            await broadcast.disconnect()

    def add_local_listener(self, listener: Listener) -> Callable[[], None]:
        """Called in-process for every change this process publishes (cache invalidation)."""
        self._local.append(listener)
        return lambda: self._local.remove(listener)

    async def publish(self, change: PageChange) -> None:
        for listener in list(self._local):
            try:
                result = listener(change)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("local listener failed for %s", change)
        if self.broadcast is None:
            return
        try:
            await self.broadcast.publish(channel_for(change.page_id), change.encode())
        except Exception:
            log.exception("broadcast publish failed for page %s", change.page_id)


hub = Hub()
