"""Cost limits on a real server: a looping document is refused while /healthz keeps answering,
and a subscription document over its (smaller) budget is refused over a real websocket while
the status page's own live document streams."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from gql.transport.exceptions import TransportQueryError

from schema.cost import MAX_SUBSCRIPTION_COST
from tests.helpers.server import ROOT, running_server
from tests.realtime.client import subscribe
from tests.schema.test_cost import GROUP_LOOP, PAGE_LOOP, big_page
from web.live_budget import MAX_CONNECTION_COST, MAX_PAGE_LIVE_COST

pytestmark = pytest.mark.e2e

# Fine as a query; executed again on every change of the page, too much for a subscription.
PAGE_PART = "components { id dailyBars { date status } }"
HEAVY_LIVE = ("subscription($slug: String!) { pageUpdates(slug: $slug) { sequence page { "
              + PAGE_PART + " } } }")
HEAVY_QUERY = "query($slug: String!) { page(slug: $slug) { " + PAGE_PART + " } }"


def live_script_document() -> str:
    """The document web/static/live.js subscribes with."""
    script = (ROOT / "web/static/live.js").read_text()
    found = re.search(r"DOCUMENT =\s*((?:\"[^\"]*\"\s*\+?\s*)+);", script)
    assert found, "live.js's DOCUMENT not found"
    return "".join(re.findall(r"\"([^\"]*)\"", found.group(1)))


async def test_healthz_answers_while_looping_documents_are_sent(admin: Any,
                                                                admin_token: str) -> None:
    await big_page(admin, components=20, groups=4)
    with running_server() as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:

            async def loop(document: str, token: str | None) -> dict[str, Any]:
                headers = {"authorization": f"Bearer {token}"} if token else {}
                response = await http.post("/graphql", json={"query": document},
                                           headers=headers)
                body: dict[str, Any] = response.json()
                return body

            sent = [asyncio.create_task(loop(doc, token))
                    for doc in (PAGE_LOOP, GROUP_LOOP) for token in (None, admin_token)]
            health = await http.get("/healthz")  # a 10 s liveness deadline (the timeout)
            assert health.status_code == 200
            for answer in await asyncio.gather(*sent):
                assert answer["data"] is None, answer
                assert answer["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
            assert (await http.get("/healthz")).status_code == 200


async def test_a_subscription_over_its_budget_is_refused_over_a_websocket(admin: Any) -> None:
    await big_page(admin, components=200, groups=10)
    with running_server() as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            as_query = (await http.post("/graphql", json={"query": HEAVY_QUERY,
                                                          "variables": {"slug": "big"}})).json()
            assert "errors" not in as_query and len(as_query["data"]["page"]["components"]) == 200
        async with subscribe(base, HEAVY_LIVE, {"slug": "big"}) as stream:
            with pytest.raises(TransportQueryError) as caught:
                await stream.next()
        error = (caught.value.errors or [{}])[0]
        assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error
        assert error["extensions"]["budget"] == MAX_SUBSCRIPTION_COST
        assert error["extensions"]["cost"] > MAX_SUBSCRIPTION_COST
        assert "scope" not in error["extensions"]  # the document's own budget
        async with subscribe(base, live_script_document(), {"slug": "big"}) as stream:
            snapshot = (await stream.next())["pageUpdates"]
        assert snapshot["kind"] == "SNAPSHOT" and len(snapshot["page"]["components"]) == 200


def heavy_live(days: int) -> str:
    """A distinct document of about 200 × 2 × days cost (19,804 at 49 days)."""
    return ('subscription { pageUpdates(slug: "big") { sequence page { components { '
            f"c: dailyBars(days: {days}) {{ date status }} }} }} }} }}")


class Socket:
    """A raw graphql-transport-ws socket, for several subscriptions at once."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, base: str) -> Socket:
        import websockets

        ws = await websockets.connect(base.replace("http", "ws") + "/graphql",
                                      subprotocols=["graphql-transport-ws"],
                                      additional_headers={"origin": base}, max_size=None)
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        return cls(ws)

    async def subscribe(self, id: str, document: str) -> dict[str, Any]:
        """The subscription's first message: `next` (its snapshot) or `error`."""
        await self.ws.send(json.dumps({"id": id, "type": "subscribe",
                                       "payload": {"query": document,
                                                   "variables": {"slug": "big"}}}))
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if message.get("id") == id and message["type"] in ("next", "error"):
                return message

    async def complete(self, id: str) -> None:
        await self.ws.send(json.dumps({"id": id, "type": "complete"}))


def refused_live(message: dict[str, Any], scope: str) -> dict[str, Any]:
    assert message["type"] == "error", message
    extensions: dict[str, Any] = message["payload"][0]["extensions"]
    assert extensions["code"] == "QUERY_TOO_COSTLY" and extensions["scope"] == scope, message
    assert extensions["cost"] > extensions["budget"], message
    return extensions


async def test_a_socket_has_one_budget_for_all_its_subscriptions(admin: Any) -> None:
    await big_page(admin, components=200, groups=10)
    with running_server() as base:
        socket = await Socket.open(base)
        try:
            assert (await socket.subscribe("1", heavy_live(49)))["type"] == "next"
            extensions = refused_live(await socket.subscribe("2", live_script_document()),
                                      "connection")
            assert extensions["budget"] == MAX_CONNECTION_COST
            await socket.complete("1")
            snapshot = await socket.subscribe("3", live_script_document())
            assert snapshot["type"] == "next", snapshot
            assert len(snapshot["payload"]["data"]["pageUpdates"]["page"]["components"]) == 200
        finally:
            await socket.ws.close()


async def test_a_page_has_a_budget_for_its_distinct_live_documents(admin: Any) -> None:
    await big_page(admin, components=200, groups=10)
    with running_server() as base:
        sockets = [await Socket.open(base) for _ in range(5)]
        try:
            for socket, days in zip(sockets, (49, 48, 47), strict=False):
                assert (await socket.subscribe("1", heavy_live(days)))["type"] == "next"
            extensions = refused_live(await sockets[3].subscribe("1", heavy_live(46)), "page")
            assert extensions["budget"] == MAX_PAGE_LIVE_COST
            # A document already live counts once, however many sockets hold it.
            assert (await sockets[3].subscribe("2", heavy_live(49)))["type"] == "next"
            assert (await sockets[4].subscribe("1", live_script_document()))["type"] == "next"
            await sockets[1].ws.close()  # its document is no longer live: room for another
            for attempt in range(50):
                answer = await sockets[4].subscribe(str(attempt + 2), heavy_live(46))
                if answer["type"] == "next":
                    break
                await asyncio.sleep(0.1)
            assert answer["type"] == "next", answer
        finally:
            for socket in sockets:
                await socket.ws.close()
