"""The process's broadcast: publishes page changes after commit and fans them out locally.

Per process and page there is one backend subscription, shared by every local consumer (the
live feeds); the hub refcounts them. A change published here reaches this process's consumers
directly (and again through Redis, which consumers drop by sequence number), so a Redis outage
never hides a local change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from realtime.backends import Backend, backend_for
from realtime.messages import (
    CREDENTIALS_CHANNEL,
    CredentialChange,
    PageChange,
    channel_for,
    page_of_channel,
)

log = logging.getLogger("heliograph.realtime")

Listener = Callable[[PageChange], Awaitable[None] | None]
Consumer = Callable[[PageChange], None]
ResyncListener = Callable[[], None]
CredentialListener = Callable[[CredentialChange], None]


class Hub:
    """One per process. `publish` never raises: Redis is a signal, the database is the truth."""

    def __init__(self) -> None:
        self.backend: Backend | None = None
        self.url: str | None = None
        self._local: list[Listener] = []
        self._consumers: dict[str, list[Consumer]] = {}
        self._resync: list[ResyncListener] = []
        self._credentials: list[CredentialListener] = []
        self._lock = asyncio.Lock()
        # Open live streams in this process (for /metrics); maintained by the live feeds.
        self.subscriber_count = 0

    @property
    def connected(self) -> bool:
        return self.backend is not None and self.backend.connected

    async def start(self, url: str) -> None:
        self.url = url
        self._lock = asyncio.Lock()  # a lock belongs to the loop that runs the app
        backend = backend_for(url)
        backend.on_message = self._received
        backend.on_resync = self._resynced
        self.backend = backend
        await backend.connect()
        await backend.subscribe(CREDENTIALS_CHANNEL)
        for page_id in list(self._consumers):
            await backend.subscribe(channel_for(page_id))

    async def stop(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            await backend.disconnect()

    def add_local_listener(self, listener: Listener) -> Callable[[], None]:
        """Called in-process for every change this process publishes (cache invalidation)."""
        self._local.append(listener)
        return lambda: self._local.remove(listener)

    def add_resync_listener(self, listener: ResyncListener) -> Callable[[], None]:
        """Called after the broadcast (re)connected: changes may have been missed meanwhile."""
        self._resync.append(listener)
        return lambda: self._resync.remove(listener)

    def add_credentials_listener(self, listener: CredentialListener) -> Callable[[], None]:
        """Called (sync, must not block) for every credential change of every process, in
        the order the broadcast carries it relative to page changes."""
        self._credentials.append(listener)
        return lambda: self._credentials.remove(listener)

    async def subscribe(self, page_id: str, consumer: Consumer) -> None:
        """Deliver the page's changes from every process to `consumer` (sync, must not block).

        Returns once the backend has confirmed the page's channel (the first consumer of a page
        subscribes it; later ones share it)."""
        async with self._lock:
            consumers = self._consumers.setdefault(page_id, [])
            consumers.append(consumer)
            if len(consumers) == 1 and self.backend is not None:
                await self.backend.subscribe(channel_for(page_id))

    async def unsubscribe(self, page_id: str, consumer: Consumer) -> None:
        async with self._lock:
            consumers = self._consumers.get(page_id, [])
            if consumer in consumers:
                consumers.remove(consumer)
            if not consumers:
                self._consumers.pop(page_id, None)
                if self.backend is not None:
                    await self.backend.unsubscribe(channel_for(page_id))

    async def publish(self, change: PageChange) -> None:
        for listener in list(self._local):
            try:
                result = listener(change)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("local listener failed for %s", change)
        self._deliver(change)
        if self.backend is None:
            return
        try:
            await self.backend.publish(channel_for(change.page_id), change.encode())
        except Exception:
            log.exception("broadcast publish failed for page %s", change.page_id)

    async def publish_credentials(self, change: CredentialChange) -> None:
        """Tell every process that credentials changed (after commit; never raises)."""
        self._credentials_changed(change)
        if self.backend is None:
            return
        try:
            await self.backend.publish(CREDENTIALS_CHANNEL, change.encode())
        except Exception:
            log.exception("broadcast publish failed for %s", change)

    def _credentials_changed(self, change: CredentialChange) -> None:
        for listener in list(self._credentials):
            try:
                listener(change)
            except Exception:
                log.exception("credentials listener failed for %s", change)

    def _deliver(self, change: PageChange) -> None:
        for consumer in list(self._consumers.get(change.page_id, ())):
            try:
                consumer(change)
            except Exception:
                log.exception("live consumer failed for %s", change)

    def _received(self, channel: str, message: str) -> None:
        if channel == CREDENTIALS_CHANNEL:
            try:
                credentials = CredentialChange.decode(message)
            except (ValueError, KeyError, TypeError):
                log.warning("malformed broadcast message on %s", channel)
                return
            # Handled here, synchronously: a page change published after this one is
            # delivered after it, so a revoked socket is closed before that change reaches it.
            self._credentials_changed(credentials)
            return
        page_id = page_of_channel(channel)
        if page_id is None or page_id not in self._consumers:
            return
        try:
            change = PageChange.decode(message)
        except (ValueError, KeyError, TypeError):
            log.warning("malformed broadcast message on %s", channel)
            return
        self._deliver(change)

    def _resynced(self) -> None:
        for listener in list(self._resync):
            try:
                listener()
            except Exception:
                log.exception("resync listener failed")


hub = Hub()
