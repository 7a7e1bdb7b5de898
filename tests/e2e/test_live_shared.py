"""Shared fan-out (web.live_ws): subscriptions of the same kind share one execution per change,
yet each still gets its own snapshot first and then every change once, in order."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.e2e.test_live import make_page, rename
from tests.helpers.server import running_server
from tests.realtime.client import PAGE_UPDATES, subscribe, ws_url

pytestmark = pytest.mark.e2e


async def live_gauge(base: str) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        text = (await http.get("/metrics")).text
    line = next(x for x in text.splitlines() if x.startswith("heliograph_live_subscribers "))
    return int(line.split()[1])


async def gauge_becomes(base: str, expected: int) -> None:
    for _ in range(100):
        if await live_gauge(base) == expected:
            return
        await asyncio.sleep(0.05)
    assert await live_gauge(base) == expected


async def test_a_late_subscriber_gets_the_current_snapshot_then_the_same_changes(
        admin: Any, admin_token: str) -> None:
    _, (api, web) = await make_page(admin)
    with running_server() as base:
        async with subscribe(base, PAGE_UPDATES, {"slug": "status"}) as early:
            start = (await early.next())["pageUpdates"]["sequence"]
            await rename(base, admin_token, api.id, "API")
            await rename(base, admin_token, web.id, "Web")
            assert [(await early.next())["pageUpdates"]["sequence"] for _ in range(2)] == [
                start + 1, start + 2]

            async with subscribe(base, PAGE_UPDATES, {"slug": "status"}) as late:
                snapshot = (await late.next())["pageUpdates"]
                assert snapshot["kind"] == "SNAPSHOT"
                assert snapshot["sequence"] == start + 2  # now, not what the others saw first
                assert [c["name"] for c in snapshot["page"]["components"]] == ["API", "Web"]

                await rename(base, admin_token, api.id, "Public API")
                a = (await early.next())["pageUpdates"]
                b = (await late.next())["pageUpdates"]
                assert a == b
                assert (a["sequence"], a["kind"]) == (start + 3, "PAGE_EDITED")
                # Nothing else: no second snapshot, no repeated change.
                assert await late.nothing_within(0.5)
                assert await early.nothing_within(0.1)


async def test_many_sockets_in_one_process_all_receive_each_change_once(
        admin: Any, admin_token: str) -> None:
    _, (api, _) = await make_page(admin)
    subscribe_message = json.dumps({"id": "live", "type": "subscribe", "payload": {
        "query": PAGE_UPDATES, "variables": {"slug": "status"}}})
    with running_server() as base:
        sockets = []
        try:
            for _ in range(60):
                ws = await connect(ws_url(base), subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
                await ws.send('{"type":"connection_init","payload":{}}')
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                await ws.send(subscribe_message)
                first = json.loads(await ws.recv())
                assert first["payload"]["data"]["pageUpdates"]["kind"] == "SNAPSHOT"
                sockets.append(ws)
            start = first["payload"]["data"]["pageUpdates"]["sequence"]
            await gauge_becomes(base, 60)
            for n in range(3):
                await rename(base, admin_token, api.id, f"API {n}")
            for ws in sockets:
                got = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(3)]
                assert [m["id"] for m in got] == ["live"] * 3
                assert [m["payload"]["data"]["pageUpdates"]["sequence"] for m in got] == [
                    start + 1, start + 2, start + 3]
                assert got[-1]["payload"]["data"]["pageUpdates"]["page"]["components"][0][
                    "name"] == "API 2"
            # One socket says `complete`: it hears nothing more, the others go on.
            await sockets[0].send('{"id":"live","type":"complete"}')
            await gauge_becomes(base, 59)
            await rename(base, admin_token, api.id, "API final")
            for ws in sockets[1:]:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert message["payload"]["data"]["pageUpdates"]["sequence"] == start + 4
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(sockets[0].recv(), 0.5)
        finally:
            for ws in sockets:
                await ws.close()
        await gauge_becomes(base, 0)


WITH_FRAGMENT = """
subscription Live($slug: String!) { pageUpdates(slug: $slug) { ...Update } }
fragment Update on PageUpdate {
  sequence kind page { components { ...Named } }
}
fragment Named on Component { id name }"""


async def test_a_document_with_fragments_streams_to_every_socket(
        admin: Any, admin_token: str) -> None:
    _, (api, _) = await make_page(admin)
    with running_server() as base:
        async with subscribe(base, WITH_FRAGMENT, {"slug": "status"}) as one, \
                subscribe(base, WITH_FRAGMENT, {"slug": "status"}) as two:
            firsts = [(await s.next())["pageUpdates"] for s in (one, two)]
            await rename(base, admin_token, api.id, "API")
            changes = [(await s.next())["pageUpdates"] for s in (one, two)]
            assert await one.nothing_within(0.3) and await two.nothing_within(0.1)
    assert [f["kind"] for f in firsts] == ["SNAPSHOT", "SNAPSHOT"]
    assert changes[0] == changes[1]
    assert (changes[0]["kind"], changes[0]["sequence"]) == ("PAGE_EDITED",
                                                           firsts[0]["sequence"] + 1)
    assert changes[0]["page"]["components"][0]["name"] == "API"
