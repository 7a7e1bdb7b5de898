"""The page formats served from the read cache (web/readcache.py) as ASGI endpoints: JSON and
feeds of one page (`/p/{slug}/…`, or the default page's), with ETag / 304, CORS, and the last
good body (marked stale) while the database cannot be read."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
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
    if not_modified(scope, entry):
        return CachedResponse(b"", 304, [h for h in entry.headers if h[0] != b"content-type"])
    return CachedResponse(entry.body, 200, entry.headers)


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
        base_url: str = scope["app"].state.settings.base_url
        # Links in the body name the page's domain: bodies are kept per version of the map.
        response = await serve(scope, slug=None if self.default else params["slug"],
                               variant=f"{self.variant(params)}@{domains.version}",
                               media_type=self.media_type,
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
