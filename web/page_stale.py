"""History and event pages (`/p/{slug}/history`, `/p/{slug}/events/{id}`) while the database
cannot be read: the last rendering an anonymous visitor got, under the status page's "may be
out of date" notice and with the stale headers of the other formats, else the 503 page.

Only renderings made for anonymous visitors are kept (a signed-in one names its visitor), so
only of pages public when rendered; and one is served only while the read cache last saw its
page public under that slug (`ReadCache.stale_meta`, re-read at most once a second, forgotten
at once when the page is edited here). An internal page's is never served: it was never kept,
and a page made internal since is not served from what was kept. Bodies are kept least
recently used first out within a byte budget. With Redis, each is also kept there for the other
processes (web/stale_shared.py, written when the page's sequence changed), and read from there
when this process has none: what `ReadCache.stale_meta` says of the page decides, as here. A
language never rendered falls back to the page's own language."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

import i18n
from models.enums import Visibility
from resolvers.statuspage import PageMeta
from web.appstate import app_state
from web.readcache import STALE, CachedResponse
from web.status_html import (
    NO_CACHE,
    VARY_LANGUAGE,
    has_credentials,
    page_language,
    render_page,
    stale_notice,
    visitor_language,
)

log = logging.getLogger("heliograph.web")

MAX_BYTES = 8 * 1024 * 1024
MAX_BODY = 512 * 1024  # a larger page is not kept
OVERHEAD = 256  # per entry, besides its body and key
MAIN = b'<main id="main" class="wrap">'


class LastGood:
    """Rendered pages by (slug, key), each with the page id it showed, within `budget` bytes."""

    def __init__(self, budget: int = MAX_BYTES) -> None:
        self.budget = budget
        self.size = 0
        self._bodies: OrderedDict[tuple[str, str], tuple[str, bytes]] = OrderedDict()

    def clear(self) -> None:
        self._bodies.clear()
        self.size = 0

    def keep(self, slug: str, key: str, page_id: str, body: bytes) -> None:
        if len(body) > MAX_BODY:
            return
        self._drop((slug, key))
        self._bodies[(slug, key)] = (page_id, body)
        self.size += self._cost((slug, key), body)
        while self.size > self.budget:
            self._drop(next(iter(self._bodies)))

    def get(self, slug: str, key: str, public: PageMeta | None) -> bytes | None:
        """The kept body, if the read cache last saw that page public under this slug
        (`public`: `ReadCache.stale_meta(slug)`)."""
        kept = self._bodies.get((slug, key))
        if kept is None or public is None or public.id != kept[0]:
            return None
        self._bodies.move_to_end((slug, key))
        return kept[1]

    def _drop(self, where: tuple[str, str]) -> None:
        kept = self._bodies.pop(where, None)
        if kept is not None:
            self.size -= self._cost(where, kept[1])

    @staticmethod
    def _cost(where: tuple[str, str], body: bytes) -> int:
        return len(body) + len(where[0]) + len(where[1]) + OVERHEAD

# (response, the id of the page it showed or None when it must not be kept)
Rendered = tuple[Response, str | None]


async def serve(request: Request, slug: str, key: str,
                render: Callable[[], Awaitable[Rendered]]) -> Response:
    """`render()`'s response; when it cannot be made, the last good one (anonymous visitors
    of a page last seen public) or the 503 page."""
    shared = app_state(request.app)
    read_cache, last_good = shared.read_cache, shared.last_good
    read_cache.listen()  # a page edited here is forgotten at once (its visibility may change)
    anonymous = not has_credentials(request.scope)
    lang, vary = visitor_language(request.scope), False  # until the page is known
    base, meta = key, None
    try:
        # The page's identity, at most a second old: what `stale_meta` answers from later.
        meta = await read_cache.meta(slug)
        if meta is not None:
            lang = page_language(request.scope, meta.language, meta.allow_visitor_language)
            vary = meta.allow_visitor_language
        base, key = key, f"{key}:{lang}"
        with i18n.using(lang):
            response, page_id = await render()
    except Exception:
        log.warning("serving %s from the last good state", request.url.path, exc_info=True)
        known = await read_cache.stale_meta(slug)
        if known is not None:
            lang = page_language(request.scope, known.language, known.allow_visitor_language)
            vary = known.allow_visitor_language
        body = None
        if anonymous:
            for language in dict.fromkeys([lang, known.language if known else lang]):
                body = last_good.get(slug, f"{base}:{language}", known)
                if body is None and known is not None:
                    kept = await read_cache.shared.get(known.id, f"page:{base}:{language}")
                    body = kept[2] if kept is not None else None
                if body is not None:
                    lang = language
                    break
        if body is None:
            page = render_page({}, request.url.path, "unavailable.html", lang)
            return CachedResponse(page, 503, [*NO_CACHE, (b"retry-after", b"5")])
        return CachedResponse(body.replace(MAIN, stale_notice(lang), 1), 200,
                              [*NO_CACHE, *STALE, *([VARY_LANGUAGE] if vary else [])])
    if vary:
        response.headers.append("vary", "Accept-Language")
    if anonymous and page_id is not None and response.status_code == 200:
        last_good.keep(slug, key, page_id, bytes(response.body))
        if meta is not None and meta.id == page_id and meta.visibility == Visibility.PUBLIC:
            read_cache.shared.put(page_id, f"page:{key}", meta.sequence, [],
                                  bytes(response.body))
    return response
