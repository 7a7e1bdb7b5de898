"""A page's branding served as files (the CSP allows no inline styles nor scripts):
`/p/{slug}/favicon.svg`, a dot in the page's overall status colour, and `/p/{slug}/theme.css`,
its accent colour. Both come from the read cache like the badges, so they change with the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from resolvers.statuspage import PageSnapshot
from web.badges import COLOURS
from web.page_formats import PageFormat, format_routes

SVG = "image/svg+xml; charset=utf-8"
CSS = "text/css; charset=utf-8"


def favicon(snap: PageSnapshot) -> bytes:
    colour = COLOURS[snap.page_status()]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
            f'<circle cx="8" cy="8" r="7" fill="{colour}"/></svg>').encode()


def theme(snap: PageSnapshot) -> bytes:
    accent = snap.page.accent_color  # validated #rrggbb, or empty
    if not accent:
        return b"/* no accent colour */\n"
    return (f":root, :root[data-theme] {{ --accent: {accent}; }}\n"
            f"header.site {{ border-top: 4px solid var(--accent); }}\n"
            f"header.site .brand {{ text-decoration-color: var(--accent); }}\n").encode()


def _fixed(render: Callable[[PageSnapshot], bytes]
           ) -> Callable[[str, dict[str, str]], Callable[[PageSnapshot], bytes]]:
    return lambda base_url, params: render


routes: list[Any] = format_routes([
    ("/p/{slug}/favicon.svg", PageFormat(media_type=SVG, variant=lambda p: "favicon.svg",
                                         render=_fixed(favicon), default=False)),
    ("/p/{slug}/theme.css", PageFormat(media_type=CSS, variant=lambda p: "theme.css",
                                       render=_fixed(theme), default=False)),
])
