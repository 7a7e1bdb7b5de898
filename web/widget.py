"""The embeddable status widget: `/p/{slug}/widget`, a tiny page another site puts in an
`<iframe>` (the one route whose policy allows framing, web/headers.py). It shows the page's
overall status and follows it: widget.js re-reads `/p/{slug}/api/v2/status.json` every
`POLL_SECONDS`. Only public pages have a widget; an internal page's answers 404 exactly like an
unknown slug, signed in or not (a widget is meant for other sites)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import i18n
from models.enums import Visibility
from resolvers.statuspage import PageSnapshot
from web.appstate import app_state
from web.page_formats import answer
from web.readcache import STALE, CachedResponse, log
from web.status_html import (
    MEDIA_TYPE,
    NO_CACHE,
    language_headers,
    not_found_page,
    page_language,
    render_page,
)
from web.statuspage_view import page_dict

POLL_SECONDS = 30
VARIANT = "widget"


def widget_body(snap: PageSnapshot, lang: str | None = None) -> bytes:
    page = page_dict(snap)
    return render_page({"page": page, "poll_seconds": POLL_SECONDS},
                       f"/p/{page['slug']}/widget", "widget.html", lang)


async def widget(request: Request) -> Response:
    cache = app_state(request.app).read_cache
    cache.listen()
    slug = request.path_params["slug"]
    path = request.url.path
    variant, vary = VARIANT, language_headers(False)
    try:
        meta = await cache.meta(slug)
        if meta is None or meta.visibility != Visibility.PUBLIC:
            return not_found_page(path, scope=request.scope)
        lang = page_language(request.scope, meta.language, meta.allow_visitor_language)
        variant, vary = f"{VARIANT}:{lang}", language_headers(meta.allow_visitor_language)
        entry = await cache.entry(meta, variant, MEDIA_TYPE,
                                  lambda snap: widget_body(snap, lang), stale_ok=False)
        if entry is None:
            return not_found_page(path, scope=request.scope)
    except Exception:
        log.warning("widget of %s from the last good state", slug, exc_info=True)
        # The key names the language, which the failed read may not have told yet.
        known = await cache.stale_meta(slug)
        lang = i18n.DEFAULT if known is None else page_language(
            request.scope, known.language, known.allow_visitor_language)
        found = await cache.stale_entry(known, f"{VARIANT}:{lang}", lang)
        if found is None:
            return CachedResponse(render_page({}, path, "unavailable.html", lang), 503,
                                  [*NO_CACHE, (b"retry-after", b"5")])
        if known is not None:
            vary = language_headers(known.allow_visitor_language)
        return CachedResponse(found[0].body, 200, [*found[0].headers, *STALE, *vary])
    return answer(request.scope, entry, vary)


routes = [Route("/p/{slug}/widget", widget, methods=["GET"])]
