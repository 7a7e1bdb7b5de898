"""SVG status badges for a page and for each component (shields.io's flat look)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from starlette.routing import Route

import i18n
from models.enums import ComponentStatus
from models.words import status_word
from resolvers.statuspage import PageSnapshot
from web.page_formats import PageFormat, format_routes

SVG = "image/svg+xml; charset=utf-8"
WORDS = {  # English badges speak shields.io's lower case; other languages the page's words
    ComponentStatus.OPERATIONAL: "operational",
    ComponentStatus.DEGRADED: "degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "partial outage",
    ComponentStatus.FULL_OUTAGE: "major outage",
    ComponentStatus.UNDER_MAINTENANCE: "under maintenance",
}
COLOURS = {
    ComponentStatus.OPERATIONAL: "#2e8540",
    ComponentStatus.DEGRADED: "#b58900",
    ComponentStatus.PARTIAL_OUTAGE: "#d9632b",
    ComponentStatus.FULL_OUTAGE: "#c62828",
    ComponentStatus.UNDER_MAINTENANCE: "#1f6fb2",
}
NARROW = set("fijlrt.,:;!|' ()[]")
WIDE = set("mwMW@%")


def _width(text: str) -> int:
    """Roughly the width of `text` in 11px Verdana, plus padding."""
    size = sum(4 if ch in NARROW else 10 if ch in WIDE else 12 if ord(ch) > 0x2E7F else 7
               for ch in text)  # CJK characters are full-width
    return size + 12


def badge(label: str, status: ComponentStatus, lang: str = i18n.DEFAULT) -> bytes:
    """A two-part badge: the label on grey, the status in words on its colour (in `lang`)."""
    with i18n.using(lang) as chosen:
        value = WORDS[status] if chosen == i18n.DEFAULT else status_word(status)
    left, right = _width(label), _width(value)
    total = left + right
    title = escape(f"{label}: {value}", {'"': "&quot;"})
    label_x, value_x = left / 2, left + right / 2
    text_label, text_value = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        f'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{COLOURS[status]}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" '
        f'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{label_x}" y="15" fill="#010101" fill-opacity=".3">{text_label}</text>'
        f'<text x="{label_x}" y="14">{text_label}</text>'
        f'<text x="{value_x}" y="15" fill="#010101" fill-opacity=".3">{text_value}</text>'
        f'<text x="{value_x}" y="14">{text_value}</text></g></svg>'
    ).encode()


def render_page(snap: PageSnapshot) -> bytes:
    return badge(snap.page.name, snap.page_status(), snap.page.language)


def render_component(component_id: str) -> Callable[[PageSnapshot], bytes | None]:
    def render(snap: PageSnapshot) -> bytes | None:
        for c in snap.components:
            if c.id == component_id:
                return badge(c.name, snap.status_of(c.id), snap.page.language)
        return None  # not a component of this page: the page's 404

    return render


def _page_render(base_url: str, params: dict[str, str]) -> Callable[[PageSnapshot], bytes | None]:
    return render_page


def _component_render(base_url: str, params: dict[str, str]
                      ) -> Callable[[PageSnapshot], bytes | None]:
    return render_component(params["component_id"])


def _routes() -> list[Route]:
    paths = []
    for prefix, default in (("/p/{slug}/", False), ("/", True)):
        paths.append((prefix + "badge.svg", PageFormat(
            media_type=SVG, variant=lambda params: "badge.svg", render=_page_render,
            default=default)))
        paths.append((prefix + "components/{component_id}/badge.svg", PageFormat(
            media_type=SVG, variant=lambda params: f"components/{params['component_id']}/badge",
            render=_component_render, default=default)))
    return format_routes(paths)


routes: list[Any] = _routes()
