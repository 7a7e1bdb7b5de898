"""Statuspage-compatible JSON: `/p/{slug}/api/v2/…` per page, `/api/v2/…` for the default page."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from resolvers.statuspage import PageSnapshot
from web.readcache import preflight, serve
from web.statuspage_json import ENDPOINTS, Formatter, encode

MEDIA_TYPE = "application/json; charset=utf-8"
Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


def _render(name: str, base_url: str) -> Callable[[PageSnapshot], bytes]:
    def render(snap: PageSnapshot) -> bytes:
        return encode(Formatter(snap, base_url).body(name))

    return render


def _endpoint(name: str, default: bool) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        slug = None if default else request.path_params["slug"]
        base_url = request.app.state.settings.base_url
        return await serve(request, slug=slug, variant=f"api/v2/{name}", media_type=MEDIA_TYPE,
                           render=_render(name, base_url))

    endpoint.__name__ = f"api_v2_{name}"
    return endpoint


def _routes() -> list[Route]:
    routes = []
    for name in ENDPOINTS:
        for prefix, default in (("/p/{slug}/api/v2/", False), ("/api/v2/", True)):
            routes.append(Route(prefix + name, _endpoint(name, default), methods=["GET"]))
            routes.append(Route(prefix + name, preflight, methods=["OPTIONS"]))
    return routes


routes: list[Any] = _routes()
