"""Who sent a request: a Bearer API token (tools) or a session cookie (browsers)."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

from resolvers.account import actor_for_token
from resolvers.auth import ANONYMOUS, Actor
from resolvers.session import COOKIE_NAME, SignedIn, actor_for_session, cookie_options


async def actor_from_request(conn: HTTPConnection) -> Actor:
    """The actor of an HTTP request or websocket handshake (ANONYMOUS when neither is valid).

    A Bearer token wins over a cookie: tools never rely on a browser's ambient session."""
    header = conn.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return await actor_for_token(credentials)
    cookie = conn.cookies.get(COOKIE_NAME)
    if cookie:
        return await actor_for_session(cookie)
    return ANONYMOUS


def set_session_cookie(response: Response, signed: SignedIn) -> None:
    """After `resolvers.session.sign_in`: hand the browser its new session cookie."""
    response.set_cookie(COOKIE_NAME, signed.cookie, **cookie_options())


def clear_session_cookie(response: Response) -> None:
    options = cookie_options()
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax",
                           secure=bool(options["secure"]))
