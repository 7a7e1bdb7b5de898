"""Security headers on every response: a Content-Security-Policy without inline scripts,
no framing (but for the embeddable widget, `/p/{slug}/widget`), no MIME sniffing, a
Referrer-Policy, and HSTS in production under https.

A pure ASGI middleware (it only rewrites `http.response.start`), so streaming bodies and
websockets pass untouched. Headers a route set itself (the subscription pages' stricter
`Referrer-Policy: no-referrer`) are kept."""

from __future__ import annotations

import re
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from settings import Settings

# Pages load their scripts and styles from /static only (images also over https: a page's
# logo, docs/pages.md); live.js talks to /graphql over the page's own ws(s) origin and
# fetches fragments from the same origin.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
               "img-src 'self' data: https:; font-src 'self'; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; "
               "frame-ancestors 'none'; connect-src 'self'{ws}")
# The embeddable widget (web/widget.py) is the one page other sites may frame.
WIDGET_POLICY = PAGE_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
WIDGET_PATH = re.compile(r"^(/p/[^/]+)?/widget$")  # `/widget` on a page's domain
# GraphiQL (development only, never in production) is strawberry's page: inline scripts and
# styles and its bundle from unpkg. Its own policy, still unframeable.
GRAPHIQL_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; "
                   "style-src 'self' 'unsafe-inline' https://unpkg.com; "
                   "img-src 'self' data: https://unpkg.com; font-src 'self' data: "
                   "https://unpkg.com; object-src 'none'; base-uri 'none'; "
                   "frame-ancestors 'none'; connect-src 'self'{ws}")
HSTS = "max-age=31536000"
REFERRER_POLICY = "strict-origin-when-cross-origin"
# What may appear in a Host header we echo into connect-src (anything else: 'self' alone).
HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def _host(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            return host if HOST_RE.match(host) else None
    return None


Header = tuple[bytes, bytes]


class SecurityHeaders:
    """Adds the headers to every HTTP response of the wrapped app."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.hsts_for_all = settings.production and settings.base_url.startswith("https://")
        self.production = settings.production
        # The headers for one kind of response, built once (a bounded cache: hosts vary).
        self.headers_for = lru_cache(maxsize=256)(self._headers_for)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = self._with_headers(scope, message)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _with_headers(self, scope: Scope, message: Message) -> Message:
        headers: list[Header] = list(message.get("headers", ()))
        present = set()
        html = False
        for name, value in headers:  # ASGI header names are lower-case
            present.add(name)
            if name == b"content-type" and value.startswith(b"text/html"):
                html = True
        https = scope.get("scheme") == "https"
        path = scope.get("path", "")
        page = ("graphiql" if path == "/graphql" else
                "widget" if html and WIDGET_PATH.match(path) else "page")
        extra = self.headers_for(html, page, https, _host(scope) if html else None)
        headers.extend(h for h in extra if h[0] not in present)
        return {**message, "headers": headers}

    def _headers_for(self, html: bool, page: str, https: bool, host: str | None
                     ) -> tuple[Header, ...]:
        found: list[tuple[str, str]] = [("x-content-type-options", "nosniff")]
        if self.production and (https or self.hsts_for_all):
            found.append(("strict-transport-security", HSTS))
        if html:
            ws = f" {'wss' if https else 'ws'}://{host}" if host else ""
            policy = {"graphiql": GRAPHIQL_POLICY, "widget": WIDGET_POLICY}.get(page, PAGE_POLICY)
            found.append(("content-security-policy", policy.format(ws=ws)))
            if page != "widget":
                found.append(("x-frame-options", "DENY"))
            found.append(("referrer-policy", REFERRER_POLICY))
        return tuple((name.encode(), value.encode("latin-1")) for name, value in found)
