"""Host routing: a page's custom domain serves that page at its root.

On a page's domain, `/`, `/history`, `/events/{id}`, `/subscribe`, `/live`, `/widget`,
`/favicon.svg`, `/theme.css`, the feeds, the badges and `/api/v2/*.json` are answered as
`/p/{slug}/…` (the path is rewritten before routing, so every check of `/p/{slug}` applies,
sign-in for internal pages included); `/p/{slug}/…` of the same page works too, another page's
`/p/…` is the unknown page. Other paths (`/static`, `/graphql`, `/signin`, `/subscriptions/…`,
`/manage`) are the installation's, on any host it answers.

In production a Host that is neither BASE_URL's, an ALLOWED_ORIGINS host nor a page's domain
gets the unknown page's 404 (health probes excepted). In development and tests every host is
served as BASE_URL (127.0.0.1, localhost, a LAN address)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers import domains
from settings import Settings
from web.stale_shared import SharedLastGood

log = logging.getLogger("heliograph.web")

PAGE_PATHS = frozenset({
    "/", "/history", "/live", "/subscribe", "/widget", "/favicon.svg", "/theme.css",
    "/badge.svg", "/history.atom", "/history.rss", "/maintenance.ics",
})
PAGE_PREFIXES = ("/events/", "/api/v2/", "/components/", "/bars/")
PROBES = frozenset({"/healthz", "/readyz"})
SCOPE_KEY = "heliograph.domain"


def request_host(scope: Scope) -> str:
    """The Host header's name, lower-case, without port (what the proxy passed on)."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            raw = value.decode("latin-1").strip().lower()
            if raw.startswith("["):
                return raw.split("]", 1)[0] + "]"
            return raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw
    server = scope.get("server")
    return str(server[0]).lower() if server else ""


def page_path(slug: str, path: str) -> str | None:
    """What `path` on the domain of page `slug` stands for; None: not a page path."""
    own = f"/p/{slug}"
    if path == own or path.startswith(own + "/"):
        return path
    if path.startswith("/p/"):
        return None
    if path in PAGE_PATHS or path.startswith(PAGE_PREFIXES):
        return own if path == "/" else own + path
    return path


class DomainRouter:
    """Rewrites page paths on a page's domain; refuses unknown hosts in production."""

    def __init__(self, app: ASGIApp, settings: Settings,
                 shared: SharedLastGood | None = None) -> None:
        self.app = app
        # The map is shared through Redis too: a process that never read it can still route
        # a page's domain while the database is down (web/stale_shared.py).
        self.shared = shared or SharedLastGood(None)
        self.shared_version = -1
        self.strict = settings.production
        self.installation = {
            (urlsplit(url).hostname or "").lower()
            for url in (settings.base_url, *settings.allowed_origins)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            await domains.refresh()  # waits only while no map is known (resolvers/domains.py)
            if self.shared.enabled and domains.version != self.shared_version:
                self.shared_version = domains.version
                self.shared.put_domains(domains.known())
        except Exception:  # the database is down: keep the last map, the routes report it
            log.warning("reading the page domains failed", exc_info=True)
            if self.shared.enabled:
                domains.adopt(await self.shared.domains())
        host = request_host(scope)
        slug = domains.slug_for_host(host)
        path: str = scope["path"]
        if slug is None:
            if not self.strict or host in self.installation or path in PROBES:
                await self.app(scope, receive, send)
            else:
                await self._unknown(scope, receive, send)
            return
        target = page_path(slug, path)
        if target is None:
            await self._unknown(scope, receive, send)
            return
        scope = {**scope, "path": target, "raw_path": target.encode(), SCOPE_KEY: host}
        await self.app(scope, receive, send)

    async def _unknown(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        from web.pages import not_found

        await not_found(Request(scope, receive))(scope, receive, send)
