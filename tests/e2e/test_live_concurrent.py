"""Sockets that subscribe at the same moment to a process that has served no one yet: each
gets exactly one snapshot, with the page in it, and then each change once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.test_live import make_page, rename
from tests.helpers.server import running_server
from tests.realtime.client import PAGE_UPDATES, ws_url

pytestmark = pytest.mark.e2e

FRESH_PROCESSES = 3
SOCKETS = 2


async def opened(base: str) -> ClientConnection:
    ws = await connect(ws_url(base), subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await ws.send('{"type":"connection_init","payload":{}}')
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    return ws


async def messages_within(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every message the socket receives until it has been quiet for `seconds`."""
    got = []
    while True:
        try:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), seconds)))
        except TimeoutError:
            return got


async def test_sockets_subscribing_at_once_to_a_fresh_process_get_one_snapshot_each(
        admin: Any, admin_token: str) -> None:
    _, (api, _) = await make_page(admin)
    subscribe = json.dumps({"id": "live", "type": "subscribe", "payload": {
        "query": PAGE_UPDATES, "variables": {"slug": "status"}}})
    for attempt in range(FRESH_PROCESSES):
        with running_server() as base:
            sockets = [await opened(base) for _ in range(SOCKETS)]
            try:
                await asyncio.gather(*(ws.send(subscribe) for ws in sockets))
                firsts = await asyncio.gather(*(messages_within(ws, 1.0) for ws in sockets))
                for got in firsts:
                    assert [m["type"] for m in got] == ["next"], (attempt, got)
                    update = got[0]["payload"]["data"]["pageUpdates"]
                    assert update["kind"] == "SNAPSHOT", (attempt, got)
                    names = [c["name"] for c in update["page"]["components"]]
                    expected = "Component 0" if attempt == 0 else f"API {attempt - 1}"
                    assert names == [expected, "Component 1"], (attempt, got)
                    assert "errors" not in got[0]["payload"], (attempt, got)
                start = firsts[0][0]["payload"]["data"]["pageUpdates"]["sequence"]
                await rename(base, admin_token, api.id, f"API {attempt}")
                changes = await asyncio.gather(*(messages_within(ws, 1.0) for ws in sockets))
                for got in changes:
                    assert [(m["payload"]["data"]["pageUpdates"]["kind"],
                             m["payload"]["data"]["pageUpdates"]["sequence"])
                            for m in got] == [("PAGE_EDITED", start + 1)], (attempt, got)
            finally:
                for ws in sockets:
                    await ws.close()
