"""Statuspage-compatible JSON: `/p/{slug}/api/v2/…` per page, `/api/v2/…` for the default page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from resolvers.statuspage import PageSnapshot
from resolvers.statuspage_json import ENDPOINTS, Formatter, encode
from web.page_formats import PageFormat, format_routes

MEDIA_TYPE = "application/json; charset=utf-8"


def _endpoint(name: str, default: bool) -> PageFormat:
    def render(base_url: str, params: dict[str, str]) -> Callable[[PageSnapshot], bytes]:
        return lambda snap: encode(Formatter(snap, base_url).body(name))

    variant = f"api/v2/{name}"
    return PageFormat(media_type=MEDIA_TYPE, variant=lambda params: variant, render=render,
                      default=default)


routes: list[Any] = format_routes([
    (prefix + name, _endpoint(name, default))
    for name in ENDPOINTS
    for prefix, default in (("/p/{slug}/api/v2/", False), ("/api/v2/", True))
])
