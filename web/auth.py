"""Who sent a request: a Bearer API token (tools) or a session cookie (browsers)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from resolvers.account import actor_for_token
from resolvers.auth import ANONYMOUS, Actor


async def actor_from_request(conn: HTTPConnection) -> Actor:
    """The actor of an HTTP request or websocket handshake (ANONYMOUS when neither is valid)."""
    header = conn.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return await actor_for_token(credentials)
    return ANONYMOUS
