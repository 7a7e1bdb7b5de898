"""Behind a reverse proxy: the visitor's host, scheme and address as the proxy forwards them
(`X-Forwarded-Host`, `X-Forwarded-Proto`, `X-Forwarded-For`), believed only when the request
comes from a proxy named in FORWARDED_ALLOW_IPS (uvicorn's own setting and syntax: addresses,
networks or `*`; default 127.0.0.1). From anyone else they are ignored: a visitor cannot pick
the page it is served, the links it is given or the origin its writes are checked against.

Outermost in the app, so domain routing (web/domains.py), links, the CSRF checks and the
websocket Origin check all read the forwarded Host. uvicorn runs with `--no-proxy-headers`:
this middleware does its work (uvicorn's own would hide the proxy's address first)."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware, _TrustedHosts

HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}"
                  r"[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$")


class ForwardedHeaders:
    def __init__(self, app: ASGIApp, trusted: str) -> None:
        self.trusted = _TrustedHosts(trusted)
        self.proxy = ProxyHeadersMiddleware(app, trusted_hosts=trusted)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and client[0] in self.trusted:
            scope = with_forwarded_host(scope)
        await self.proxy(scope, receive, send)  # type: ignore[arg-type]


def with_forwarded_host(scope: Scope) -> Scope:
    """`scope` with the Host the proxy forwarded (its first, the visitor's, value), if any
    and well-formed; the original Host otherwise."""
    forwarded = None
    for name, value in scope["headers"]:
        if name == b"x-forwarded-host":
            forwarded = value.decode("latin-1").split(",")[0].strip().lower()
            break
    if not forwarded or not HOST.match(forwarded):
        return scope
    headers = [(n, v) for n, v in scope["headers"] if n != b"host"]
    headers.append((b"host", forwarded.encode("latin-1")))
    return {**scope, "headers": headers}
