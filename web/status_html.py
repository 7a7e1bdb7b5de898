"""The status page in HTML (`/`, `/p/{slug}`) and its events part for live.js (`/p/{slug}/live`).

Rendered from the page's snapshot and compact figures (web/statuspage_view.py), never through
a GraphQL round trip. Anonymous visitors of a public page get bytes from the read cache
(web/readcache.py): per page and sequence, re-rendered at most every `MAX_AGE` seconds because
bars move with the clock, in a task of its own while the previous bytes keep answering. Signed-
in visitors (internal pages, or the account menu) get a rendering of their own from the same
cached snapshot and figures. With the database unreadable, a public page's last rendering is
served under a visible notice."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

import i18n
from models.enums import Visibility
from resolvers import domains
from resolvers.auth import ANONYMOUS, Actor
from resolvers.session import COOKIE_NAME
from resolvers.statuspage import PageMeta, PageSnapshot
from web.appstate import AppState, app_state
from web.auth import actor_from_request
from web.page_formats import answer
from web.readcache import STALE, CachedResponse, ReadCache, log
from web.statuspage_view import events_context, page_dict, status_context
from web.templating import templates

MEDIA_TYPE = "text/html; charset=utf-8"
MAX_AGE = 30.0
STALE_TEXT = i18n.N_(
    "This page could not be refreshed just now: what it shows may be out of date.")
STALE_NOTICE = (
    b'<main id="main" class="wrap"><p class="stale-notice" role="status">'
    + STALE_TEXT.encode() + b"</p>")
VARY_LANGUAGE = (b"vary", b"Accept-Language")


def stale_notice(lang: str) -> bytes:
    """The "may be out of date" notice (with the `<main>` it goes into) in `lang`."""
    with i18n.using(lang):
        text = str(escape(i18n.gettext(STALE_TEXT)))
    return b'<main id="main" class="wrap"><p class="stale-notice" role="status">' \
        + text.encode() + b"</p>"


def accept_language(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"accept-language":
            return str(value.decode("latin-1"))
    return None


def page_language(scope: Scope, language: str, allow_visitor: bool) -> str:
    """The language a page is shown in: the visitor's (Accept-Language, among the supported
    ones) when the page allows it, else, or failing that, the page's own."""
    own = i18n.canonical(language) or i18n.DEFAULT
    return i18n.negotiate(accept_language(scope), own) if allow_visitor else own


async def language_of(scope: Scope, slug: str | None) -> tuple[str, bool]:
    """The language `slug`'s pages are shown in to this visitor, and whether it follows the
    visitor's (English for an unknown page; the last known identity when unreadable)."""
    meta: PageMeta | None
    cache = app_state(scope["app"]).read_cache
    try:
        meta = await cache.meta(slug) if slug else None
    except Exception:
        meta = await cache.stale_meta(slug)
    if meta is None:
        return i18n.DEFAULT, False
    return (page_language(scope, meta.language, meta.allow_visitor_language),
            meta.allow_visitor_language)


def language_headers(allow_visitor: bool) -> list[tuple[bytes, bytes]]:
    """`Vary: Accept-Language` on a page whose language follows the visitor's."""
    return [VARY_LANGUAGE] if allow_visitor else []
NO_CACHE = [(b"content-type", MEDIA_TYPE.encode()), (b"cache-control", b"no-cache")]


def has_credentials(scope: Scope) -> bool:
    """Whether the request may carry a session or a token (else it is anonymous, cheaply)."""
    cookie = COOKIE_NAME.encode()
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and cookie in value):
            return True
    return False


async def visitor(scope: Scope) -> Actor:
    """The request's actor; no database read for a request without credentials."""
    return await actor_from_request(Request(scope)) if has_credentials(scope) else ANONYMOUS


def _viewer(actor: Actor) -> dict[str, Any] | None:
    if not actor.authenticated or actor.user is None:
        return None
    user = actor.user
    return {"id": user.id, "email": user.email, "name": user.name, "isAdmin": user.is_admin}


def render_page(context: dict[str, Any], path: str, name: str = "status.html",
                lang: str | None = None) -> bytes:
    context.setdefault("signin_next", path)
    with i18n.using(lang or i18n.current()):
        return templates.env.get_template(name).render(context).encode()


async def status_body(shared: AppState, snap: PageSnapshot, path: str,
                      actor: Actor = ANONYMOUS, lang: str | None = None) -> bytes:
    """The status page of this snapshot as `actor` sees it, in `lang` (`shared`: the app's
    figures and rendered rows)."""
    figures = await shared.figures.get(snap)
    with i18n.using(lang):
        return render_page(status_context(snap, figures, _viewer(actor), shared.rows), path)


def live_body(snap: PageSnapshot, path: str, lang: str | None = None) -> bytes:
    with i18n.using(lang):
        return render_page({**events_context(snap), "page": page_dict(snap)}, path,
                           "_live_fragment.html")


def visitor_language(scope: Scope | None) -> str:
    """The visitor's language (Accept-Language, among the supported ones), else English: for
    what belongs to no page the visitor may see. Never the page's own language, which would
    tell an internal page from a missing one."""
    return i18n.negotiate(accept_language(scope), i18n.DEFAULT) if scope else i18n.DEFAULT


def not_found_page(path: str, actor: Actor = ANONYMOUS, scope: Scope | None = None) -> Response:
    """The one 404 page (unknown slugs and pages the visitor may not see look the same), in
    the visitor's language."""
    body = render_page({"viewer": _viewer(actor)}, path, "not_found.html",
                       visitor_language(scope))
    return CachedResponse(body, 404, [*NO_CACHE, VARY_LANGUAGE])


async def _page(cache: ReadCache, slug: str | None, at_least: int | None, actor: Actor
                ) -> tuple[PageMeta, str] | None:
    """The page's identity when `actor` may see it, and its slug."""
    if slug is None:
        slug = await cache.default_slug()
        if slug is None:
            return None
    meta = await cache.meta(slug, at_least)
    if meta is None or (meta.visibility != Visibility.PUBLIC and not actor.authenticated):
        return None
    return meta, slug


def variant_base(path: str, live: bool = False) -> str:
    """The read cache's key of a status page's body (or its live part), before `:language`;
    links name the page's domain, so bodies are kept per version of the domain map."""
    return ("live" if live else "html:" + path) + f"@{domains.version}"


async def serve_html(scope: Scope, *, slug: str | None, live: bool = False,
                     at_least: int | None = None) -> Response:
    """The status page (or its live part) of `slug` (None: the default page)."""
    shared = app_state(scope["app"])
    cache = shared.read_cache
    cache.listen()
    path: str = scope["path"]
    base = variant_base(path, live)
    try:
        actor = await visitor(scope)
        found = await _page(cache, slug, at_least, actor)
        if found is None:
            return not_found_page(path, actor, scope)
        meta, slug = found
        lang = page_language(scope, meta.language, meta.allow_visitor_language)
        variant = f"{base}:{lang}"
        vary = language_headers(meta.allow_visitor_language)
        if actor.authenticated:
            # The account menu names the visitor: rendered for them, from the shared parts.
            snap = await cache.snapshot(meta)
            if snap is None:
                return not_found_page(path, actor, scope)
            body = live_body(snap, path, lang) if live else await status_body(
                shared, snap, path, actor, lang)
            return CachedResponse(body, 200, [
                *NO_CACHE, (b"vary", b"Cookie, Authorization"), *vary])

        async def render(snap: PageSnapshot) -> bytes:
            return live_body(snap, path, lang) if live else await status_body(
                shared, snap, path, lang=lang)

        entry = await cache.entry(meta, variant, MEDIA_TYPE, render,
                                  max_age=None if live else MAX_AGE,
                                  stale_ok=at_least is None)
        if entry is None:
            return not_found_page(path, scope=scope)
        return answer(scope, entry, vary)
    except Exception:
        log.warning("serving %s from the last good state", path, exc_info=True)
        known = await cache.stale_meta(slug)
        lang = visitor_language(scope) if known is None else page_language(
            scope, known.language, known.allow_visitor_language)
        kept = await cache.stale_entry(known, f"{base}:{lang}", lang)
        if kept is None:
            body = render_page({}, path, "unavailable.html", lang)
            return CachedResponse(body, 503, [*NO_CACHE, (b"retry-after", b"5")])
        stale, lang = kept[0], kept[1] or lang
        body = stale.body if live else stale.body.replace(
            b'<main id="main" class="wrap">', stale_notice(lang), 1)
        return CachedResponse(body, 200, [*stale.headers, *STALE])


class StatusPage:
    """ASGI endpoint of `/` (default) and `/p/{slug}`: no Request object on the cached path."""

    def __init__(self, *, default: bool) -> None:
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slug = None if self.default else scope["path_params"]["slug"]
        at_least = _sequence(scope)
        response = None
        if at_least is None and not has_credentials(scope):
            response = cached_html(scope, slug)
        if response is None:
            response = await serve_html(scope, slug=slug, at_least=at_least)
        await response(scope, receive, send)


def cached_html(scope: Scope, slug: str | None) -> Response | None:
    """An anonymous visitor's status page when its body is rendered and current, answered
    without awaiting anything (the hot path); None: `serve_html` does the rest."""
    cache = app_state(scope["app"]).read_cache
    meta = cache.ready_meta(slug)
    if meta is None:
        return None
    lang = page_language(scope, meta.language, meta.allow_visitor_language)
    entry = cache.ready_entry(meta, f"{variant_base(scope['path'])}:{lang}", MAX_AGE)
    if entry is None:
        return None
    return answer(scope, entry, language_headers(meta.allow_visitor_language))


def _sequence(scope: Scope) -> int | None:
    """`?sequence=N`: live.js asks for a rendering of sequence N or later."""
    query: bytes = scope.get("query_string", b"")
    if not query:
        return None
    raw = parse_qs(query.decode("latin-1")).get("sequence", [""])[0]
    return int(raw) if raw.isdigit() else None


async def live_fragment(request: Request) -> Response:
    """The events parts of the status page, re-fetched by live.js after an event changes."""
    return await serve_html(request.scope, slug=request.path_params["slug"], live=True,
                            at_least=_sequence(request.scope))


async def status_context_for(request: Request, slug: str) -> dict[str, Any] | None:
    """The status page's context for one visitor (the subscribe form answers on the page)."""
    shared = app_state(request.app)
    actor = await visitor(request.scope)
    found = await _page(shared.read_cache, slug, None, actor)
    if found is None:
        return None
    snap = await shared.read_cache.snapshot(found[0])
    if snap is None:
        return None
    return status_context(snap, await shared.figures.get(snap), _viewer(actor), shared.rows)
