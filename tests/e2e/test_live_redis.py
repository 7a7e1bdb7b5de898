"""Live subscriptions across processes on Redis, and through a Redis restart."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.e2e.test_live import make_page, rename
from tests.helpers.server import running_server
from tests.realtime.client import PAGE_UPDATES, subscribe
from tests.realtime.redis_server import private_redis

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


async def test_a_change_on_one_process_reaches_a_subscriber_on_another(
        admin: Any, admin_token: str) -> None:
    _, (api, _) = await make_page(admin)
    with running_server() as one, running_server() as two:
        async with subscribe(one, PAGE_UPDATES, {"slug": "status"}) as stream:
            first = (await stream.next())["pageUpdates"]
            await rename(two, admin_token, api.id, "API")
            change = (await stream.next())["pageUpdates"]
    assert first["kind"] == "SNAPSHOT"
    assert change["kind"] == "PAGE_EDITED" and change["sequence"] == first["sequence"] + 1
    assert change["page"]["components"][0]["name"] == "API"


async def test_first_subscription_on_a_fresh_install_receives_its_message(
        admin: Any, admin_token: str) -> None:
    """A Redis that never saw a subscriber, web processes that never served one."""
    _, (api, _) = await make_page(admin)
    with private_redis() as redis, \
            running_server({"BROADCAST_URL": redis.url}) as one, \
            running_server({"BROADCAST_URL": redis.url}) as two:
        async with subscribe(one, PAGE_UPDATES, {"slug": "status"}) as stream:
            await stream.next()
            await rename(two, admin_token, api.id, "API")
            change = (await stream.next())["pageUpdates"]
    assert change["kind"] == "PAGE_EDITED"


async def test_after_a_redis_restart_every_subscriber_resyncs_and_gets_new_changes(
        admin: Any, admin_token: str) -> None:
    _, (api, web) = await make_page(admin)
    with private_redis() as redis, \
            running_server({"BROADCAST_URL": redis.url}) as one, \
            running_server({"BROADCAST_URL": redis.url}) as two:
        async with subscribe(one, PAGE_UPDATES, {"slug": "status"}) as a, \
                subscribe(one, PAGE_UPDATES, {"slug": "status"}) as b, \
                subscribe(two, PAGE_UPDATES, {"slug": "status"}) as c:
            streams = (a, b, c)
            for stream in streams:
                assert (await stream.next())["pageUpdates"]["kind"] == "SNAPSHOT"

            redis.stop()
            # While Redis is down, a mutation still answers promptly (the database is the
            # truth); its own process's viewers still hear of it.
            started = time.monotonic()
            await rename(one, admin_token, api.id, "During the outage")
            assert time.monotonic() - started < 5
            for stream in (a, b):
                during = (await stream.next())["pageUpdates"]
                assert during["kind"] == "PAGE_EDITED"
            redis.start()

            # Every stream gets a fresh snapshot once its process has reconnected ...
            resynced = [(await stream.next(15))["pageUpdates"] for stream in streams]
            assert [m["kind"] for m in resynced] == ["SNAPSHOT"] * 3
            # ... carrying the change the other process missed while Redis was down.
            assert resynced[2]["page"]["components"][0]["name"] == "During the outage"

            published = time.monotonic()
            await rename(two, admin_token, web.id, "After the restart")
            after = await asyncio.gather(*(stream.next(5) for stream in streams))
            elapsed = time.monotonic() - published
    assert elapsed < 5
    assert all(m["pageUpdates"]["kind"] == "PAGE_EDITED" for m in after)
    assert all(m["pageUpdates"]["sequence"] == resynced[0]["sequence"] + 1 for m in after)
    assert all(m["pageUpdates"]["page"]["components"][1]["name"] == "After the restart"
               for m in after)
