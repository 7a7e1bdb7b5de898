"""Broadcast backends: in-process memory, and Redis pub/sub with a supervised listener.

SUBSCRIBE returns only once Redis has confirmed it, subscribe/unsubscribe are serialised, and
one supervised listener reconnects with backoff, re-subscribes every channel, and then tells
the hub to make every open stream resync.

A subscriber connection can die without a word (a NAT or load balancer drops it while idle):
redis-py's own health check only *sends* a PING on a pub/sub connection and never notices the
missing answer. So the listener keeps its own watch: after `HEALTH_CHECK_INTERVAL` of silence
it sends a PING, and a second silent interval ends the connection (and reconnects). A SUBSCRIBE
Redis does not confirm does the same, and never raises into the caller (a live subscription
would fail with INTERNAL): the reconnect subscribes the channel and makes its streams resync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("heliograph.realtime")

OnMessage = Callable[[str, str], None]
OnResync = Callable[[], None]

SUBSCRIBE_TIMEOUT = 5.0
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 2.0
# Seconds of silence on the subscriber connection before a PING; as long again without any
# answer and the connection is taken for dead.
HEALTH_CHECK_INTERVAL = 10.0


class Backend(Protocol):
    """What the hub needs from a transport between processes."""

    on_message: OnMessage
    on_resync: OnResync

    @property
    def connected(self) -> bool: ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def subscribe(self, channel: str) -> None: ...

    async def unsubscribe(self, channel: str) -> None: ...

    async def publish(self, channel: str, message: str) -> None: ...


def _ignore_message(channel: str, message: str) -> None:
    return None


def _ignore_resync() -> None:
    return None


class MemoryBackend:
    """One process: the hub already delivers every change to its own streams, so a publish
    has nowhere else to go."""

    def __init__(self) -> None:
        self.on_message: OnMessage = _ignore_message
        self.on_resync: OnResync = _ignore_resync
        self._connected = False

    @property
    def connected(self) -> bool:
        return self._connected

    async def connect(self) -> None:
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False

    async def subscribe(self, channel: str) -> None:
        return None

    async def unsubscribe(self, channel: str) -> None:
        return None

    async def publish(self, channel: str, message: str) -> None:
        return None


async def cancel_until_done(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and wait until it has ended. A cancellation can be lost on the way —
    redis-py's `get_message` swallows one and reads on (seen as a shutdown that hung forever
    with the reader "cancelling" in get_message), Python 3.11's wait_for returns its inner
    result when both complete in one loop turn — so it is repeated until the task is done."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()


class RedisBackend:
    """Redis pub/sub on redis.asyncio: one publishing client, one supervised subscriber."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.on_message: OnMessage = _ignore_message
        self.on_resync: OnResync = _ignore_resync
        self._channels: set[str] = set()
        self._confirm: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()  # serialises subscribe / unsubscribe / (re)connection
        self._pubsub: Any = None
        self._sub_client: aioredis.Redis | None = None
        self._pub_client: aioredis.Redis | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._broken = asyncio.Event()  # set when the connection must be replaced
        self._stopping = False

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    def _client(self, *, retries: int, health_check: bool) -> aioredis.Redis:
        return aioredis.Redis.from_url(
            self.url,
            decode_responses=True,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), retries),
            # The subscriber keeps its own watch (see `_read`): redis-py's check would send
            # PINGs whose missing answers nobody notices.
            health_check_interval=int(HEALTH_CHECK_INTERVAL) if health_check else 0,
        )

    async def connect(self) -> None:
        """Start the supervised listener and wait (bounded) for the first connection."""
        # Publishing retries once: a restarted Redis leaves a dead pooled connection behind.
        self._pub_client = self._client(retries=1, health_check=True)
        self._stopping = False
        self._task = asyncio.create_task(self._supervise(), name="heliograph-redis-listener")
        with contextlib.suppress(TimeoutError):
            # An unreachable Redis must not stop the web process: it keeps retrying.
            await asyncio.wait_for(self._ready.wait(), timeout=SUBSCRIBE_TIMEOUT)

    async def disconnect(self) -> None:
        # One cancellation is not enough (see cancel_until_done): a listener that lost it
        # reconnected and a single `await task` waited forever (a test run hung in Hub.stop).
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            await cancel_until_done(task)
        await self._close_subscriber()
        if self._pub_client is not None:
            await self._pub_client.aclose()
            self._pub_client = None

    async def publish(self, channel: str, message: str) -> None:
        assert self._pub_client is not None, "connect() first"
        await self._pub_client.publish(channel, message)

    async def subscribe(self, channel: str) -> None:
        """Return once Redis has confirmed the subscription (or the listener will redo it)."""
        async with self._lock:
            self._channels.add(channel)
            if not self._ready.is_set():
                return  # the listener subscribes every channel when it (re)connects
            try:
                await self._subscribe_confirmed([channel])
            except Exception as exc:  # whatever it was, the reconnect subscribes the channel
                log.warning("SUBSCRIBE %s failed (%s); reconnecting", channel,
                            exc.__class__.__name__)
                self._replace_connection()

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.discard(channel)
            if self._pubsub is not None and self._ready.is_set():
                try:
                    await self._pubsub.unsubscribe(channel)
                except Exception as exc:
                    log.warning("UNSUBSCRIBE %s failed (%s); reconnecting", channel,
                                exc.__class__.__name__)
                    self._replace_connection()

    def _replace_connection(self) -> None:
        """The subscriber connection is no longer to be trusted: the supervisor replaces it
        (and every stream resyncs once it is back)."""
        self._ready.clear()
        self._broken.set()

    async def _subscribe_confirmed(self, channels: list[str]) -> None:
        loop = asyncio.get_running_loop()
        waits = []
        for channel in channels:
            future = self._confirm.get(channel)
            if future is None or future.done():
                future = self._confirm[channel] = loop.create_future()
            waits.append(future)
        await self._pubsub.subscribe(*channels)
        try:
            await asyncio.wait_for(asyncio.gather(*waits), timeout=SUBSCRIBE_TIMEOUT)
        finally:
            for channel in channels:
                self._confirm.pop(channel, None)

    async def _close_subscriber(self) -> None:
        self._ready.clear()
        pubsub, self._pubsub = self._pubsub, None
        client, self._sub_client = self._sub_client, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()
        for future in self._confirm.values():
            if not future.done():
                future.set_exception(ConnectionError("redis subscriber connection lost"))
        self._confirm.clear()

    async def _open_subscriber(self) -> None:
        # No retries inside redis-py: a silent reconnect there would hide lost messages.
        self._sub_client = self._client(retries=0, health_check=False)
        self._pubsub = self._sub_client.pubsub()
        await self._pubsub.connect()
        self._reader = asyncio.create_task(self._read(), name="heliograph-redis-reader")
        async with self._lock:
            if self._channels:
                await self._subscribe_confirmed(sorted(self._channels))
            self._ready.set()

    async def _read(self) -> None:
        """Hand on every message; raise when the connection fails or falls silent."""
        pinged = False
        while True:
            message = await self._pubsub.get_message(timeout=HEALTH_CHECK_INTERVAL)
            if message is None:  # a whole interval without a word
                if pinged:
                    raise ConnectionError("Redis did not answer PING")
                await self._pubsub.ping()
                pinged = True
                continue
            pinged = False
            kind = message.get("type")
            channel = message.get("channel")
            if kind == "message":
                try:
                    self.on_message(str(channel), str(message.get("data")))
                except Exception:
                    log.exception("broadcast message handler failed")
            elif kind == "subscribe":
                future = self._confirm.get(str(channel))
                if future is not None and not future.done():
                    future.set_result(None)

    async def _supervise(self) -> None:
        """Keep one subscriber connection alive; after a reconnect, ask for a resync."""
        delay = BACKOFF_FIRST
        connections = 0
        while not self._stopping:
            self._broken.clear()
            try:
                await self._open_subscriber()
                connections += 1
                if connections > 1:
                    log.warning("broadcast reconnected to Redis; streams resync")
                # Also after a first connection that came late: streams opened meanwhile
                # may have missed changes from other processes.
                self.on_resync()
                delay = BACKOFF_FIRST
                assert self._reader is not None
                broken = asyncio.ensure_future(self._broken.wait())
                try:
                    await asyncio.wait({self._reader, broken},
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    broken.cancel()
                if self._reader.done():
                    self._reader.result()  # raises: the connection is gone
                raise ConnectionError("subscriber connection replaced")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of the connection: reconnect
                log.warning("broadcast connection to Redis lost (%s); retrying in %.1fs",
                            exc.__class__.__name__, delay)
            finally:
                reader = self._reader
                if reader is not None and not reader.done():
                    await cancel_until_done(reader)
                await self._close_subscriber()
            await asyncio.sleep(delay * (1 + random.random() / 4))
            delay = min(delay * 2, BACKOFF_MAX)


def backend_for(url: str) -> Backend:
    """The backend a BROADCAST_URL names."""
    if url.startswith(("redis://", "rediss://")):
        return RedisBackend(url)
    if url.startswith("memory://"):
        return MemoryBackend()
    raise ValueError(f"unsupported broadcast URL {url!r}")
