"""Live subscriptions end to end: a real uvicorn process, a real gql websocket client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError
from websockets.exceptions import InvalidStatus

from tests.helpers.server import running_server
from tests.realtime.client import (
    COMPONENT_STATUS,
    PAGE_UPDATES,
    UPDATE_COMPONENT,
    mutate,
    subscribe,
    transport,
)

pytestmark = pytest.mark.e2e


async def make_page(admin: Any, slug: str = "status", internal: bool = False,
                    components: int = 2) -> tuple[Any, list[Any]]:
    """A page with components, written through the domain operations."""
    from models.enums import Visibility
    from resolvers.auth import load_actor
    from resolvers.component import create_component
    from resolvers.page import create_page

    actor = await load_actor(admin, via="token")
    page = await create_page(actor=actor, slug=slug, name=slug.title(),
                             visibility=Visibility.INTERNAL if internal else Visibility.PUBLIC)
    made = [await create_component(actor=actor, page_id=page.id, name=f"Component {i}")
            for i in range(components)]
    return page, made


def close_code(exc: BaseException | None) -> int | None:
    """The websocket close code behind a gql transport error."""
    while exc is not None:
        received = getattr(exc, "rcvd", None)
        if received is not None:
            return int(received.code)
        exc = exc.__cause__ or exc.__context__
    return None


async def rename(base: str, token: str, component_id: str, name: str) -> None:
    data = await mutate(base, token, UPDATE_COMPONENT, {"input": {"id": component_id,
                                                                  "name": name}})
    assert data["updateComponent"]["__typename"] == "UpdateComponentPayload", data


async def test_snapshot_first_then_each_change_in_sequence(admin: Any, admin_token: str
                                                           ) -> None:
    _, (api, web) = await make_page(admin)
    with running_server() as base:
        async with subscribe(base, PAGE_UPDATES, {"slug": "status"}) as stream:
            first = (await stream.next())["pageUpdates"]
            assert first["kind"] == "SNAPSHOT"
            assert first["page"]["slug"] == "status"
            assert [c["name"] for c in first["page"]["components"]] == [
                "Component 0", "Component 1"]
            assert {c["status"] for c in first["page"]["components"]} == {"OPERATIONAL"}
            assert first["sequence"] == first["page"]["sequence"]
            start = first["sequence"]

            await rename(base, admin_token, api.id, "API")
            await rename(base, admin_token, web.id, "Web app")
            await rename(base, admin_token, api.id, "Public API")
            seen = [(await stream.next())["pageUpdates"] for _ in range(3)]

    assert [m["sequence"] for m in seen] == [start + 1, start + 2, start + 3]
    assert [m["kind"] for m in seen] == ["PAGE_EDITED"] * 3
    assert seen[0]["componentIds"] == [api.id]
    assert [c["name"] for c in seen[0]["page"]["components"]] == ["API", "Component 1"]
    assert [c["name"] for c in seen[2]["page"]["components"]] == ["Public API", "Web app"]


async def test_many_subscribers_share_one_change(admin: Any, admin_token: str) -> None:
    _, (api, _) = await make_page(admin)
    with running_server() as base:
        async with subscribe(base, PAGE_UPDATES, {"slug": "status"}) as one, \
                subscribe(base, PAGE_UPDATES, {"slug": "status"}) as two, \
                subscribe(base, COMPONENT_STATUS, {"slug": "status", "ids": [api.id]}) as dash:
            for stream in (one, two, dash):
                assert (await stream.next())["pageUpdates" if stream is not dash else
                                              "componentStatusChanged"]["kind"] == "SNAPSHOT"
            await rename(base, admin_token, api.id, "API")
            a = (await one.next())["pageUpdates"]
            b = (await two.next())["pageUpdates"]
            # A rename is no status change: the dashboard stream stays quiet.
            assert await dash.nothing_within(1.0)
    assert a == b
    assert a["page"]["components"][0]["name"] == "API"


async def test_unknown_slug_and_anonymous_internal_page_get_an_error_and_no_data(
        admin: Any, admin_token: str) -> None:
    await make_page(admin, slug="staff", internal=True)
    with running_server() as base:
        for slug in ("staff", "nope"):
            async with subscribe(base, PAGE_UPDATES, {"slug": slug}) as stream:
                with pytest.raises(TransportQueryError) as caught:
                    await stream.next()
            assert caught.value.data is None
            assert caught.value.errors and caught.value.errors[0]["message"] == "Page not found"
        # The same page for a member who authenticates in connection_init.
        async with subscribe(base, PAGE_UPDATES, {"slug": "staff"},
                             token=admin_token) as stream:
            assert (await stream.next())["pageUpdates"]["page"]["slug"] == "staff"


async def test_a_bad_token_in_connection_init_is_refused(admin: Any) -> None:
    await make_page(admin, slug="staff", internal=True)
    with running_server() as base:
        with pytest.raises(Exception) as caught:
            async with subscribe(base, PAGE_UPDATES, {"slug": "staff"},
                                 token="hgt_bogus_secret") as stream:
                await stream.next()
    assert close_code(caught.value) == 4403  # strawberry's "Forbidden" rejection


async def test_cross_origin_handshake_is_refused_unless_allowed(admin: Any) -> None:
    await make_page(admin)
    env = {"ALLOWED_ORIGINS": "https://dash.example.com"}
    with running_server(env) as base:
        with pytest.raises(TransportConnectionFailed) as caught:
            async with Client(transport=transport(base, origin="https://evil.example.com")):
                pass
        refusal = caught.value.__cause__
        assert isinstance(refusal, InvalidStatus)
        assert refusal.response.status_code == 403
        async with Client(transport=transport(base, origin="https://dash.example.com")) as s:
            request = GraphQLRequest(PAGE_UPDATES, variable_values={"slug": "status"})
            async for result in s.subscribe(request):
                assert result["pageUpdates"]["kind"] == "SNAPSHOT"
                break


async def test_subscription_cap_per_connection(admin: Any) -> None:
    await make_page(admin)
    with running_server() as base:
        async with Client(transport=transport(base)) as session:
            request = GraphQLRequest(PAGE_UPDATES, variable_values={"slug": "status"})
            queues: list[asyncio.Queue[Any]] = []

            async def pump(queue: asyncio.Queue[Any]) -> None:
                try:
                    async for result in session.subscribe(request):
                        queue.put_nowait(result)
                except Exception as exc:  # handed to the assertion below
                    queue.put_nowait(exc)

            tasks = []
            for _ in range(21):
                queue: asyncio.Queue[Any] = asyncio.Queue()
                queues.append(queue)
                tasks.append(asyncio.create_task(pump(queue)))
                await asyncio.sleep(0.02)
            results = [await asyncio.wait_for(q.get(), 10) for q in queues]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    snapshots = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, TransportQueryError)]
    assert len(snapshots) == 20
    assert len(refused) == 1 and "Subscription limit reached" in str(refused[0])


async def test_a_browser_session_cookie_on_the_handshake_opens_internal_pages(
        admin: Any) -> None:
    from resolvers.session import COOKIE_NAME, sign_in

    await make_page(admin, slug="staff", internal=True)
    signed = await sign_in(email="admin@example.com", password="correct horse")
    with running_server() as base:
        browser = transport(base, origin=base, cookie=f"{COOKIE_NAME}={signed.cookie}")
        async with Client(transport=browser) as session:
            request = GraphQLRequest(PAGE_UPDATES, variable_values={"slug": "staff"})
            async for result in session.subscribe(request):
                assert result["pageUpdates"]["kind"] == "SNAPSHOT"
                assert result["pageUpdates"]["page"]["slug"] == "staff"
                break


async def test_only_graphql_transport_ws_and_a_prompt_connection_init(admin: Any) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from tests.realtime.client import ws_url

    await make_page(admin)
    with running_server() as base:
        # The legacy `graphql-ws` protocol is off: the connection is closed at once.
        with pytest.raises(ConnectionClosed) as legacy:
            async with connect(ws_url(base), subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
                await ws.send('{"type":"connection_init","payload":{}}')
                await asyncio.wait_for(ws.recv(), 5)
        assert legacy.value.rcvd is not None and legacy.value.rcvd.code == 4406
        assert legacy.value.rcvd.reason == "Subprotocol not acceptable"

        # A client that never sends connection_init is closed after the 5 s allowance.
        async with connect(ws_url(base), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            loop = asyncio.get_running_loop()
            opened = loop.time()
            with pytest.raises(ConnectionClosed) as idle:
                await asyncio.wait_for(ws.recv(), 15)
            assert idle.value.rcvd is not None and idle.value.rcvd.code == 4408
            assert 4 <= loop.time() - opened <= 12


async def test_the_server_pings_and_closes_a_peer_that_stops_answering(admin: Any) -> None:
    """Keep-alive: websocket pings from the server; a peer that never answers is dropped."""
    import base64
    import os
    from urllib.parse import urlsplit

    await make_page(admin)
    with running_server(uvicorn_args=["--ws-ping-interval", "1", "--ws-ping-timeout", "1"]
                        ) as base:
        address = urlsplit(base)
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /graphql HTTP/1.1\r\nHost: {address.netloc}\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101")
        # A raw client that reads but never answers: the first frame is the server's ping.
        first = await asyncio.wait_for(reader.readexactly(2), 5)
        assert first[0] & 0x0F == 0x9  # opcode: ping
        # ... and with no pong the server gives up on the connection: a close frame with
        # 1011 "keepalive ping timeout" (before the 5 s connection_init allowance), then EOF.
        data = first + await asyncio.wait_for(reader.read(), 10)
        frames = []  # (opcode, payload); server frames are unmasked and short here
        while data:
            length = data[1] & 0x7F
            frames.append((data[0] & 0x0F, data[2:2 + length]))
            data = data[2 + length:]
        opcode, payload = frames[-1]
        assert opcode == 0x8
        assert int.from_bytes(payload[:2], "big") == 1011
        assert payload[2:] == b"keepalive ping timeout"
        writer.close()
