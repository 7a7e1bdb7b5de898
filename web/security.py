"""HTTP hardening for write endpoints: JSON-only bodies with a size limit, no batches, and a
same-origin check (CSRF defence) for cookie-authenticated requests.

`same_origin_problem` is reusable by any route that accepts cookie-authenticated writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolvers import domains
from resolvers.session import COOKIE_NAME
from settings import Settings

MAX_BODY_BYTES = 100 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def trusted_origins(settings: Settings) -> frozenset[str]:
    return frozenset(_origin(o) for o in (settings.base_url, *settings.allowed_origins))


def same_origin_problem(headers: Headers, trusted: frozenset[str], own: str) -> str | None:
    """Why a cookie-authenticated write looks cross-site; None when it is acceptable.

    `Origin` decides when present; else `Sec-Fetch-Site`; else the `Referer`'s origin. A
    request with none of them is refused: every browser sends one of them on a POST."""
    origin = headers.get("origin")
    if origin is not None:
        if origin.lower().rstrip("/") in trusted or origin.lower() == own \
                or domains.is_page_origin(origin):
            return None
        return f"Origin {origin!r} is not allowed to write with a session cookie"
    site = headers.get("sec-fetch-site")
    if site is not None:
        if site in ("same-origin", "none"):
            return None
        return f"A {site} request may not write with a session cookie"
    referer = headers.get("referer")
    if referer is not None and (_origin(referer) in trusted | {own}
                                or domains.is_page_origin(_origin(referer))):
        return None
    return "A write with a session cookie needs an Origin header from this site"


def _own_origin(scope: Scope) -> str:
    conn = HTTPConnection(scope)
    return f"{conn.url.scheme}://{conn.url.netloc}".lower()


def _refusal(status: int, code: str, message: str) -> Message:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    return {"status": status, "body": body.encode()}


class GraphQLHttpGuard:
    """Wraps the GraphQL endpoint: refuses before strawberry parses anything."""

    def __init__(self, app: ASGIApp, settings: Settings, *,
                 max_body: int = MAX_BODY_BYTES, extra_origins: Sequence[str] = ()) -> None:
        self.app = app
        self.max_body = max_body
        self.trusted = trusted_origins(settings) | {_origin(o) for o in extra_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._check_headers(scope, headers)
        body = b""
        if refusal is None:
            body, refusal = await self._read_body(headers, receive)
        if refusal is None and body.lstrip()[:1] == b"[":
            refusal = _refusal(400, "BATCH_REFUSED", "Batched requests are not supported: "
                                                     "send one operation per request")
        if refusal is not None:
            await _send(send, refusal)
            return
        await self.app(scope, _replay(body, receive), send)

    def _check_headers(self, scope: Scope, headers: Headers) -> Message | None:
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            return _refusal(415, "UNSUPPORTED_MEDIA_TYPE",
                            f"POST a JSON body (Content-Type: application/json), not "
                            f"{media or 'no content type'}")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return _refusal(413, "PAYLOAD_TOO_LARGE",
                            f"The request body is limited to {self.max_body} bytes")
        # Only the cookie is ambient (a cross-site page can make the browser send it); a
        # Bearer header cannot be forged cross-site and wins over the cookie (web.auth).
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        bearer = scheme.lower() == "bearer" and bool(credentials)
        if not bearer and COOKIE_NAME in HTTPConnection(scope).cookies:
            problem = same_origin_problem(headers, self.trusted, _own_origin(scope))
            if problem is not None:
                return _refusal(403, "CROSS_SITE_REFUSED", problem)
        return None

    async def _read_body(self, headers: Headers, receive: Receive
                         ) -> tuple[bytes, Message | None]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", _refusal(400, "DISCONNECTED", "The client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", _refusal(413, "PAYLOAD_TOO_LARGE",
                                     f"The request body is limited to {self.max_body} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None


def _replay(body: bytes, receive_next: Receive) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive_next()  # after the body only a disconnect can come

    return receive


async def _send(send: Send, refusal: Message) -> None:
    body = refusal["body"]
    await send({"type": "http.response.start", "status": refusal["status"],
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
