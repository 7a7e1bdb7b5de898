"""The page formats served from the read cache (web/readcache.py) as ASGI endpoints: JSON and
feeds of one page (`/p/{slug}/…`, or the default page's), with ETag / 304, CORS, and the last
good body (marked stale) while the database cannot be read.

`FormatRoutes` routes to all of them with one dictionary lookup (web/app.py puts it right after
the HTML status page): Starlette's router tries its routes one regular expression at a time,
and with some sixty format routes that was the largest share of a cached answer's cost."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

from starlette._utils import get_route_path
from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from models.enums import Visibility
from resolvers import domains
from web.appstate import app_state
from web.auth import actor_from_request
from web.readcache import (
    CORS,
    STALE,
    STALE_FORMATS,
    CachedResponse,
    Entry,
    ReadCache,
    Render,
    log,
    not_found,
    unavailable,
)


def conditional_headers(scope: Scope) -> tuple[bytes | None, bytes | None]:
    """If-None-Match and If-Modified-Since, read straight from the ASGI scope (hot path)."""
    if_none_match = if_modified_since = None
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if_none_match = value
        elif name == b"if-modified-since":
            if_modified_since = value
    return if_none_match, if_modified_since


def not_modified(scope: Scope, entry: Entry) -> bool:
    """RFC 9110 §13: If-None-Match (weak comparison) decides; else If-Modified-Since."""
    if_none_match, if_modified_since = conditional_headers(scope)
    if if_none_match is not None:
        text = if_none_match.decode("latin-1").strip()
        if text == "*":
            return True
        return entry.etag in {tag.strip().removeprefix("W/") for tag in text.split(",")}
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since.decode("latin-1"))
            modified = parsedate_to_datetime(entry.last_modified)
        except (TypeError, ValueError):
            return False
        return since.tzinfo is not None and modified <= since
    return False


def answer(scope: Scope, entry: Entry, extra: Sequence[tuple[bytes, bytes]] = ()
           ) -> Response:
    """The cached body, or a 304 when the caller holds it; `extra`: headers for both (Vary)."""
    if not_modified(scope, entry):
        return CachedResponse(b"", 304, [*entry.headers_304, *extra])
    return CachedResponse(entry.body, 200, [*entry.headers, *extra])


async def serve(scope: Scope, *, slug: str | None, variant: str, media_type: str,
                render: Render) -> Response:
    """Answer a GET for one page's format from the cache (slug None: the default page)."""
    cache = app_state(scope["app"]).read_cache
    cache.listen()
    try:
        return await _serve(cache, scope, slug=slug, variant=variant, media_type=media_type,
                            render=render)
    except Exception:
        # The database (or a render) failed: the last good body of a public page, marked.
        log.warning("serving %s from the last good state", variant, exc_info=True)
        found = await cache.stale_entry(await cache.stale_meta(slug), variant)
        if found is None:
            return unavailable()
        entry = found[0]
        return CachedResponse(entry.body, 200, [*entry.headers, *STALE])


async def _serve(cache: ReadCache, scope: Scope, *, slug: str | None, variant: str,
                 media_type: str, render: Render) -> Response:
    if slug is None:
        slug = await cache.default_slug()
        if slug is None:
            return not_found()
    meta = await cache.meta(slug)
    if meta is None:
        return not_found()
    if meta.visibility != Visibility.PUBLIC:
        actor = await actor_from_request(Request(scope))
        if not actor.authenticated:
            return not_found()
    entry = await cache.entry(meta, variant, media_type, render, stale_ok=STALE_FORMATS)
    if entry is None:
        return not_found()
    return answer(scope, entry)


class PageFormat:
    """An ASGI endpoint for one format of a page (`/p/{slug}/…`, or the default page's).

    A plain ASGI app rather than a Starlette function endpoint: the cached path builds no
    Request object, which is a measurable share of a cached answer (bench/read.py)."""

    def __init__(self, *, media_type: str, variant: Callable[[dict[str, str]], str],
                 render: Callable[[str, dict[str, str]], Render], default: bool) -> None:
        self.media_type = media_type
        self.variant = variant
        self.render = render
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params: dict[str, str] = scope.get("path_params", {})
        slug = None if self.default else params["slug"]
        # Links in the body name the page's domain: bodies are kept per version of the map.
        variant = f"{self.variant(params)}@{domains.version}"
        entry = app_state(scope["app"]).read_cache.ready(slug, variant)
        if entry is not None:  # the hot path: a public body already rendered, nothing to await
            if not not_modified(scope, entry):
                await send({"type": "http.response.start", "status": 200,
                            "headers": entry.headers_200})
                await send({"type": "http.response.body", "body": entry.body})
                return
            response = answer(scope, entry)
        else:
            base_url: str = scope["app"].state.settings.base_url
            response = await serve(scope, slug=slug, variant=variant, media_type=self.media_type,
                                   render=self.render(base_url, params))
        await response(scope, receive, send)


def format_routes(paths: list[tuple[str, PageFormat]]) -> list[Route]:
    """GET (and HEAD) routes for the endpoints, each with its CORS preflight."""
    routes = []
    for path, endpoint in paths:
        routes.append(Route(path, endpoint, methods=["GET"]))
        routes.append(Route(path, preflight, methods=["OPTIONS"]))
    return routes


async def preflight(request: Request) -> Response:
    """CORS preflight: the same answer for every page (no hint whether one exists)."""
    return CachedResponse(b"", 204, [
        *CORS,
        (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
        (b"access-control-allow-headers", b"If-None-Match, If-Modified-Since"),
        (b"access-control-max-age", b"86400"),
    ])


ROUTE_KEY = "heliograph.format_route"  # the sub-route a match chose, in the child scope
SLUG_PREFIX = "/p/{slug}/"


class FormatRoutes(BaseRoute):
    """The routes of `format_routes`, matched by one dictionary lookup on the path (with the
    page's slug taken out) instead of one regular expression per route; the few paths with
    another parameter (a component's badge) are matched in order, as Starlette would.

    Behaves as the routes it holds would in Starlette's list: the same path parameters, 405 for
    another method (Allow: GET, HEAD), and `routes` lists them (tests walk every route)."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self._exact: dict[str, dict[str, Route]] = {}
        # (the literal end of the path, the route): most paths are ruled out without a regex
        self._patterned: list[tuple[str, Route]] = []
        for route in routes:
            params = set(route.param_convertors)
            if params and (params != {"slug"} or not route.path.startswith(SLUG_PREFIX)
                           or route.path.count("{") != 1):
                self._patterned.append((route.path.rsplit("}", 1)[-1], route))
                continue
            methods = self._exact.setdefault(route.path, {})
            for method in route.methods or ():
                methods.setdefault(method, route)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = get_route_path(scope)
        key, params = path, {}
        if path.startswith("/p/"):
            slug, slash, rest = path[3:].partition("/")
            if slug and slash:
                key, params = SLUG_PREFIX + rest, {"slug": slug}
        methods = self._exact.get(key)
        if methods is not None:
            route = methods.get(scope["method"]) or next(iter(methods.values()))
            found: Scope = {"endpoint": route.endpoint, ROUTE_KEY: route,
                            "path_params": {**scope.get("path_params", {}), **params}}
            return (Match.FULL if route.methods and scope["method"] in route.methods
                    else Match.PARTIAL), found
        partial: tuple[Match, Scope] | None = None
        for suffix, route in self._patterned:
            if not path.endswith(suffix):
                continue
            match, child = route.matches(scope)
            if match == Match.FULL:
                return match, {**child, ROUTE_KEY: route}
            if match == Match.PARTIAL and partial is None:
                partial = match, {**child, ROUTE_KEY: route}
        return partial or (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: Route = scope[ROUTE_KEY]
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)
