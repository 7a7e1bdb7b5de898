"""Open live sockets re-check their credentials: deactivation, sign-out, token revocation and
role changes close the member's socket (4403) before the next change of the page reaches it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.test_live import make_page, rename
from tests.helpers.server import running_server
from tests.realtime.client import COMPONENT_STATUS, PAGE_UPDATES, ws_url

pytestmark = pytest.mark.e2e

MEMBER = "member@example.com"
PASSWORD = "member password"

DEACTIVATE = """mutation($id: ID!) { deactivateUser(input: {id: $id}) { __typename } }"""
SIGN_OUT = """mutation { signOut(input: {everywhere: false}) { __typename } }"""
REVOKE_TOKEN = """mutation($id: ID!) { revokeApiToken(input: {id: $id}) { __typename } }"""
UPDATE_USER = """mutation($id: ID!, $admin: Boolean) {
  updateUser(input: {id: $id, isAdmin: $admin}) { __typename } }"""
REVOKE_ROLE = """mutation($id: ID!) { revokeRole(input: {id: $id}) { __typename } }"""
OUTAGE = """mutation($page: ID!, $component: ID!) { createIncident(input: {pageId: $page,
  title: "Down", message: "Looking", components: [{componentId: $component,
  impact: FULL_OUTAGE}]}) { __typename } }"""


class Live:
    """A raw graphql-transport-ws connection with one `pageUpdates` subscription."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def snapshot(self) -> dict[str, Any]:
        message = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        assert message["type"] == "next", message
        (update,) = message["payload"]["data"].values()
        assert update["kind"] == "SNAPSHOT"
        return update

    async def rest_until_closed(self) -> tuple[list[dict[str, Any]], int, str]:
        """Every message up to the close (10 s at most), and the close code and reason."""
        messages: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(10):
                while True:
                    messages.append(json.loads(await self.ws.recv()))
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "closed without a close frame"
            return messages, closed.rcvd.code, closed.rcvd.reason
        except TimeoutError:
            pass
        raise AssertionError(f"still open after 10 s, having received {messages}")


@contextlib.asynccontextmanager
async def live(base: str, slug: str, *, token: str | None = None, cookie: str | None = None,
               components: list[str] | None = None) -> AsyncIterator[Live]:
    headers = {"Origin": base}
    if cookie:
        headers["Cookie"] = cookie
    async with connect(ws_url(base), subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                       additional_headers=headers) as ws:
        init = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        payload: dict[str, Any] = {"query": PAGE_UPDATES, "variables": {"slug": slug}}
        if components is not None:  # strawberry's own per-socket path, not a shared group
            payload = {"query": COMPONENT_STATUS,
                       "variables": {"slug": slug, "ids": components}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield Live(ws)


async def post(base: str, query: str, variables: dict[str, Any] | None = None, *,
               token: str | None = None, cookie: str | None = None) -> dict[str, Any]:
    headers = {"Origin": base}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if cookie:
        headers["cookie"] = cookie
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        response = await http.post("/graphql", json={"query": query,
                                                     "variables": variables or {}},
                                   headers=headers)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    (result,) = data.values()
    assert result["__typename"].endswith("Payload"), data
    return data


async def member(is_admin: bool = False) -> tuple[Any, str, Any]:
    """A member with an API token: (user, token secret, token record)."""
    from resolvers.account import create_user, issue_token

    user = await create_user(email=MEMBER, password=PASSWORD, is_admin=is_admin)
    secret, token = await issue_token(user=user, name="dashboard")
    return user, secret, token


async def member_cookie() -> str:
    from resolvers.session import COOKIE_NAME, sign_in

    signed = await sign_in(email=MEMBER, password=PASSWORD)
    return f"{COOKIE_NAME}={signed.cookie}"


def assert_closed_before_the_change(messages: list[dict[str, Any]], code: int, reason: str,
                                    expected: str = "Credentials revoked") -> None:
    assert [m for m in messages if m.get("type") == "next"] == []
    assert (code, reason) == (4403, expected)


async def test_a_deactivated_members_socket_is_closed_before_the_next_change(
        admin: Any, admin_token: str) -> None:
    _, (api, _) = await make_page(admin, slug="staff", internal=True)
    user, token, _ = await member()
    cookie = await member_cookie()
    with running_server() as base:
        async with live(base, "staff", token=token) as by_token, \
                live(base, "staff", cookie=cookie) as by_cookie:
            for s in (by_token, by_cookie):
                await s.snapshot()
            await post(base, DEACTIVATE, {"id": user.id}, token=admin_token)
            await rename(base, admin_token, api.id, "Internal API v2")
            for s in (by_token, by_cookie):
                messages, code, reason = await s.rest_until_closed()
                assert_closed_before_the_change(messages, code, reason)


async def test_signing_out_closes_the_sockets_of_that_session_only(
        admin: Any, admin_token: str) -> None:
    _, (api, _) = await make_page(admin, slug="staff", internal=True)
    _, token, _ = await member()
    signed_out, kept = await member_cookie(), await member_cookie()
    with running_server() as base:
        async with live(base, "staff", cookie=signed_out) as stream, \
                live(base, "staff", cookie=kept) as other, \
                live(base, "staff", token=token) as tool:
            for s in (stream, other, tool):
                await s.snapshot()
            await post(base, SIGN_OUT, cookie=signed_out)
            await rename(base, admin_token, api.id, "Internal API v2")
            messages, code, reason = await stream.rest_until_closed()
            # The member's other session and their token still stream the change.
            for s in (other, tool):
                change = json.loads(await asyncio.wait_for(s.ws.recv(), 10))
                assert change["payload"]["data"]["pageUpdates"]["kind"] == "PAGE_EDITED"
    assert_closed_before_the_change(messages, code, reason)


async def test_revoking_an_api_token_closes_the_sockets_it_opened(
        admin: Any, admin_token: str) -> None:
    _, (api, _) = await make_page(admin, slug="staff", internal=True)
    _, token, record = await member()
    with running_server() as base:
        async with live(base, "staff", token=token) as stream:
            await stream.snapshot()
            await post(base, REVOKE_TOKEN, {"id": record.id}, token=token)
            await rename(base, admin_token, api.id, "Internal API v2")
            messages, code, reason = await stream.rest_until_closed()
    assert_closed_before_the_change(messages, code, reason)


async def test_a_revoked_token_also_ends_a_component_status_stream(
        admin: Any, admin_token: str) -> None:
    page, (api, _) = await make_page(admin, slug="staff", internal=True)
    _, token, record = await member()
    with running_server() as base:
        async with live(base, "staff", token=token, components=[api.id]) as stream:
            await stream.snapshot()
            await post(base, REVOKE_TOKEN, {"id": record.id}, token=admin_token)
            await post(base, OUTAGE, {"page": page.id, "component": api.id},
                       token=admin_token)
            messages, code, reason = await stream.rest_until_closed()
    assert_closed_before_the_change(messages, code, reason)


async def test_losing_the_admin_flag_or_a_role_closes_the_socket_to_reconnect(
        admin: Any, admin_token: str) -> None:
    """Shared streams are grouped by the viewer's rights: a socket opened under rights it no
    longer has is closed, and its client reconnects under the new ones."""
    from models.enums import Role
    from resolvers.auth import load_actor
    from resolvers.role import assign_role

    _, (api, web) = await make_page(admin, slug="staff", internal=True)
    user, token, _ = await member(is_admin=True)
    with running_server() as base:
        async with live(base, "staff", token=token) as stream:
            await stream.snapshot()
            await post(base, UPDATE_USER, {"id": user.id, "admin": False}, token=admin_token)
            await rename(base, admin_token, api.id, "Internal API v2")
            messages, code, reason = await stream.rest_until_closed()
        assert_closed_before_the_change(messages, code, reason,
                                        "Credentials changed; reconnect")

        assignment = await assign_role(actor=await load_actor(admin, via="token"),
                                       user_id=user.id, role=Role.EVENT_MANAGEMENT)
        async with live(base, "staff", token=token) as stream:
            # Reconnected under the new rights: the stream works again.
            await stream.snapshot()
            await post(base, REVOKE_ROLE, {"id": assignment.id}, token=admin_token)
            await rename(base, admin_token, web.id, "Internal web v2")
            messages, code, reason = await stream.rest_until_closed()
        assert_closed_before_the_change(messages, code, reason,
                                        "Credentials changed; reconnect")


async def test_a_revocation_the_server_never_heard_of_still_closes_the_socket(
        admin: Any) -> None:
    """The safety net for a lost signal: sockets re-read their credentials periodically."""
    from models import Session

    await make_page(admin, slug="staff", internal=True)
    await member()
    cookie = await member_cookie()
    with running_server() as base:
        async with live(base, "staff", cookie=cookie) as stream:
            await stream.snapshot()
            # Ended behind the server's back: no broadcast tells it.
            await Session.all().delete()
            messages, code, reason = await stream.rest_until_closed()
    assert_closed_before_the_change(messages, code, reason)


@pytest.mark.redis
async def test_deactivation_through_one_process_closes_a_socket_held_by_another(
        admin: Any, admin_token: str) -> None:
    _, (api, _) = await make_page(admin, slug="staff", internal=True)
    user, token, _ = await member()
    cookie = await member_cookie()
    with running_server() as one, running_server() as two:
        async with live(two, "staff", token=token) as by_token, \
                live(two, "staff", cookie=cookie) as by_cookie:
            for s in (by_token, by_cookie):
                await s.snapshot()
            await post(one, DEACTIVATE, {"id": user.id}, token=admin_token)
            await rename(one, admin_token, api.id, "Internal API v2")
            for s in (by_token, by_cookie):
                messages, code, reason = await s.rest_until_closed()
                assert_closed_before_the_change(messages, code, reason)
