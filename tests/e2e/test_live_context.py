"""A live stream never rewires its socket's context: a query sent over the same websocket after
live messages reads the database as it is, not the page state a message was built from."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.e2e.test_live import make_page, rename
from tests.helpers.server import running_server
from tests.realtime.client import COMPONENT_STATUS, ws_url

pytestmark = pytest.mark.e2e

PAGE_QUERY = 'query { page(slug: "status") { components { name } } }'


async def test_a_query_over_a_live_socket_reads_current_data(admin: Any,
                                                            admin_token: str) -> None:
    _, (api, web) = await make_page(admin)
    with running_server() as base:
        async with connect(ws_url(base),
                           subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]

            async def received() -> dict[str, Any]:
                message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
                return message

            await ws.send('{"type":"connection_init","payload":{}}')
            assert (await received())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "live", "type": "subscribe", "payload": {
                "query": COMPONENT_STATUS,
                "variables": {"slug": "status", "ids": [api.id, web.id]}}}))
            snapshot = await received()
            assert snapshot["payload"]["data"]["componentStatusChanged"]["kind"] == "SNAPSHOT"

            await rename(base, admin_token, api.id, "Renamed")
            await ws.send(json.dumps({"id": "query", "type": "subscribe",
                                      "payload": {"query": PAGE_QUERY}}))
            answer = await received()
            while answer.get("id") != "query" or answer["type"] != "next":
                answer = await received()
    names = [c["name"] for c in answer["payload"]["data"]["page"]["components"]]
    assert names == ["Renamed", "Component 1"]
