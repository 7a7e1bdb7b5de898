"""The broadcast backends against a real Redis: confirmed SUBSCRIBE, shared channels,
serialised first subscribers, and a listener that survives a Redis restart."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from redis.asyncio.client import PubSub

from realtime import backends
from realtime.hub import Hub
from realtime.messages import CredentialChange, PageChange
from tests.realtime.redis_server import private_redis
from tests.realtime.tcp_proxy import proxy_to

TEST_REDIS = os.environ.get("HELIOGRAPH_TEST_REDIS_URL", "")


async def received(queue: asyncio.Queue[PageChange], wait: float = 5.0) -> PageChange:
    return await asyncio.wait_for(queue.get(), wait)


@pytest.mark.redis
async def test_first_subscription_receives_a_message_published_right_after() -> None:
    """subscribe() returns only once Redis has confirmed SUBSCRIBE (a backend that reports
    ready before that, as broadcaster 0.3.1 did with redis-py 8, loses this message)."""
    listener, publisher = Hub(), Hub()
    await listener.start(TEST_REDIS)
    await publisher.start(TEST_REDIS)
    got: asyncio.Queue[PageChange] = asyncio.Queue()
    try:
        await listener.subscribe("fresh-page", got.put_nowait)
        await publisher.publish(PageChange("fresh-page", 7, "PAGE_EDITED"))
        change = await received(got)
    finally:
        await listener.stop()
        await publisher.stop()
    assert change == PageChange("fresh-page", 7, "PAGE_EDITED")


@pytest.mark.redis
async def test_concurrent_first_subscribers_share_one_channel() -> None:
    listener, publisher = Hub(), Hub()
    await listener.start(TEST_REDIS)
    await publisher.start(TEST_REDIS)
    queues: list[asyncio.Queue[PageChange]] = [asyncio.Queue() for _ in range(5)]
    try:
        await asyncio.gather(*(listener.subscribe("busy-page", q.put_nowait) for q in queues))
        await publisher.publish(PageChange("busy-page", 3, "COMPONENT_STATUS",
                                           component_ids=("c1",)))
        changes = [await received(q) for q in queues]
        # The last local consumer leaving unsubscribes the channel; others keep it.
        await listener.unsubscribe("busy-page", queues[0].put_nowait)
        await publisher.publish(PageChange("busy-page", 4, "PAGE_EDITED"))
        later = [await received(q) for q in queues[1:]]
        assert queues[0].empty()
    finally:
        await listener.stop()
        await publisher.stop()
    assert {c.sequence for c in changes} == {3} and changes[0].component_ids == ("c1",)
    assert {c.sequence for c in later} == {4}


@pytest.mark.redis
async def test_listener_reconnects_after_a_redis_restart_and_asks_for_a_resync() -> None:
    with private_redis() as server:
        listener, publisher = Hub(), Hub()
        await listener.start(server.url)
        await publisher.start(server.url)
        got: asyncio.Queue[PageChange] = asyncio.Queue()
        resynced = asyncio.Event()
        listener.add_resync_listener(resynced.set)
        try:
            await listener.subscribe("page", got.put_nowait)
            resynced.clear()
            server.stop()
            # Publishing while Redis is down neither raises nor hangs.
            await asyncio.wait_for(publisher.publish(PageChange("page", 1, "PAGE_EDITED")), 5)
            server.start()
            await asyncio.wait_for(resynced.wait(), 10)
            assert listener.connected
            await publisher.publish(PageChange("page", 2, "PAGE_EDITED"))
            change = await received(got)
        finally:
            await listener.stop()
            await publisher.stop()
    assert change.sequence == 2


@pytest.mark.redis
async def test_a_credential_change_reaches_other_processes_before_a_later_page_change() -> None:
    """A revocation published before a page change is handled first by every process: a
    revoked socket is closed before that change reaches it."""
    listener, publisher = Hub(), Hub()
    await listener.start(TEST_REDIS)
    await publisher.start(TEST_REDIS)
    seen: list[object] = []
    both = asyncio.Event()

    def record(item: object) -> None:
        seen.append(item)
        if len(seen) == 2:
            both.set()

    listener.add_credentials_listener(record)
    try:
        await listener.subscribe("page", record)
        await publisher.publish_credentials(CredentialChange("USER_DEACTIVATED", "u1"))
        await publisher.publish(PageChange("page", 5, "PAGE_EDITED"))
        await asyncio.wait_for(both.wait(), 5)
    finally:
        await listener.stop()
        await publisher.stop()
    assert seen == [CredentialChange("USER_DEACTIVATED", "u1"),
                    PageChange("page", 5, "PAGE_EDITED")]


async def test_memory_hub_delivers_to_local_consumers_and_listeners() -> None:
    hub = Hub()
    await hub.start("memory://")
    got: asyncio.Queue[PageChange] = asyncio.Queue()
    local: list[PageChange] = []
    hub.add_local_listener(local.append)
    try:
        await hub.subscribe("p", got.put_nowait)
        await hub.publish(PageChange("p", 1, "PAGE_EDITED"))
        await hub.publish(PageChange("other", 1, "PAGE_EDITED"))
        change = await received(got)
    finally:
        await hub.stop()
    assert change.page_id == "p" and got.empty()
    assert [c.page_id for c in local] == ["p", "other"]


@pytest.mark.redis
async def test_a_connection_dropped_while_idle_is_replaced_before_the_next_subscription(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A NAT or load balancer dropped the idle subscriber connection without closing it: the
    first subscription after the idle period still receives what other processes publish."""
    monkeypatch.setattr(backends, "HEALTH_CHECK_INTERVAL", 0.5)  # the idle period, shortened
    async with proxy_to(TEST_REDIS) as proxy:
        listener, publisher = Hub(), Hub()
        await listener.start(proxy.url)
        await publisher.start(TEST_REDIS)
        got: asyncio.Queue[PageChange] = asyncio.Queue()
        try:
            proxy.drop_open_connections()
            await asyncio.sleep(3)  # idle for a few periods
            await asyncio.wait_for(listener.subscribe("idle-page", got.put_nowait), 10)
            await publisher.publish(PageChange("idle-page", 1, "PAGE_EDITED"))
            change = await received(got)
        finally:
            await listener.stop()
            await publisher.stop()
    assert change == PageChange("idle-page", 1, "PAGE_EDITED")


@pytest.mark.redis
async def test_a_subscription_redis_never_confirms_reconnects_and_resyncs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection died just before the first subscription: its SUBSCRIBE goes unanswered.
    The subscription still returns, and the listener reconnects, subscribes the page's channel
    and asks its streams to resync, so they hear of later changes."""
    monkeypatch.setattr(backends, "SUBSCRIBE_TIMEOUT", 1.0)
    async with proxy_to(TEST_REDIS) as proxy:
        listener, publisher = Hub(), Hub()
        await listener.start(proxy.url)
        await publisher.start(TEST_REDIS)
        got: asyncio.Queue[PageChange] = asyncio.Queue()
        resynced = asyncio.Event()
        listener.add_resync_listener(resynced.set)
        try:
            proxy.drop_open_connections()
            await asyncio.wait_for(listener.subscribe("lost-page", got.put_nowait), 10)
            await asyncio.wait_for(resynced.wait(), 10)
            await publisher.publish(PageChange("lost-page", 1, "PAGE_EDITED"))
            change = await received(got)
        finally:
            await listener.stop()
            await publisher.stop()
    assert change.sequence == 1


@pytest.mark.redis
async def test_a_subscribe_failing_inside_redis_py_neither_raises_nor_loses_the_channel(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """While the listener replaces a dead connection, redis-py's pub/sub can fail a SUBSCRIBE
    with an error of its own (its connection reset underneath: AttributeError on None). The
    live subscription must not fail with it (INTERNAL): the channel is subscribed on the
    reconnect, and later changes arrive."""
    original = PubSub.subscribe
    failures = ["'NoneType' object has no attribute 'send_command'"]

    async def subscribe_once_broken(self: PubSub, *args: Any, **kwargs: Any) -> Any:
        if failures and any("broken-page" in str(a) for a in args):
            raise AttributeError(failures.pop())
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(PubSub, "subscribe", subscribe_once_broken)
    listener, publisher = Hub(), Hub()
    await listener.start(TEST_REDIS)
    await publisher.start(TEST_REDIS)
    got: asyncio.Queue[PageChange] = asyncio.Queue()
    resynced = asyncio.Event()
    listener.add_resync_listener(resynced.set)
    try:
        await asyncio.wait_for(listener.subscribe("broken-page", got.put_nowait), 10)
        await asyncio.wait_for(resynced.wait(), 10)
        await publisher.publish(PageChange("broken-page", 1, "PAGE_EDITED"))
        change = await received(got)
    finally:
        await listener.stop()
        await publisher.stop()
    assert change.sequence == 1 and not failures


@pytest.mark.redis
async def test_stopping_ends_a_listener_that_swallowed_its_cancellation() -> None:
    """The listener is cancelled while it connects, and the cancellation is lost on the way (as
    Python 3.11's wait_for loses one when its inner future completes in the same loop turn): it
    connects anyway. Stopping must still end it and close its connections, not wait forever."""
    backend = backends.RedisBackend(TEST_REDIS)
    original = backend._open_subscriber
    connecting = asyncio.Event()

    async def open_swallowing_a_cancellation() -> None:
        connecting.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            pass  # lost: the listener carries on
        await original()

    backend._open_subscriber = open_swallowing_a_cancellation  # type: ignore[method-assign]
    started = asyncio.ensure_future(backend.connect())
    await asyncio.wait_for(connecting.wait(), 5)
    listening = backend._task
    assert listening is not None
    # asyncio.wait, not wait_for: a timeout's cancellation would reach the listener too.
    stopping = asyncio.ensure_future(backend.disconnect())
    try:
        await asyncio.wait({stopping}, timeout=10)
        assert stopping.done() and listening.done()
        assert not backend.connected and backend._pubsub is None
    finally:
        for task in (started, stopping, listening):
            task.cancel()  # nothing left running into later tests, even when this one failed
        await asyncio.gather(started, stopping, listening, return_exceptions=True)
