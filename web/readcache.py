"""Cached reads of a page's public formats: bytes per page and sequence, with ETag / 304.

A process learns new sequences at once from the changes it publishes itself
(`hub.add_local_listener`), and re-reads a page's sequence from the database at most once a
second, so a change committed by another process is served within a second. Internal pages
are answered only to signed-in callers, and anonymous callers get exactly the unknown-page 404.

Rendering a new sequence never makes callers queue behind it: a body is rendered in its own
task, and while that render is in flight the previous body of the page is served, for at most
`STALE_GRACE` seconds after the new sequence became known here (then callers wait for it).
When the database cannot be read, a public page's last body is served with `X-Heliograph-Stale`
(and a `Warning`), never an internal page's: this process's, else (with Redis) the one another
process kept (web/stale_shared.py, written here for each new sequence). The endpoints serving
these bodies are in web/page_formats.py. One ReadCache per app, made by `web.app.create_app`:
a request reaches it as `app_state(request.app).read_cache` (web/appstate.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime
from functools import cached_property
from typing import Any, TypeVar

from starlette.responses import Response

from models.enums import Visibility
from realtime import PageChange, hub
from resolvers.statuspage import PageMeta, PageSnapshot, default_slug, page_meta, snapshot
from web.stale_shared import SharedLastGood

log = logging.getLogger("heliograph.web")

REFRESH_SECONDS = 1.0
# How long after a new sequence became known the previous body may still be served while the
# new one renders: with a change learned at once here, well inside "nothing older than 1 s".
STALE_GRACE = 0.5
# The JSON and feeds answer a change at once (a tool reads back what it wrote): their render
# is small, and callers share the one in flight. The HTML page (web/status_html.py) does not.
STALE_FORMATS = True
MAX_SLUGS = 1024
T = TypeVar("T")
Render = Callable[[PageSnapshot], bytes | Awaitable[bytes | None] | None]

CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"ETag, Last-Modified, Warning, X-Heliograph-Stale"),
]
# The last good state, served while the database cannot be read.
STALE = [(b"x-heliograph-stale", b"1"), (b"warning", b'110 - "Response is Stale"')]
# Internal data is never shared cross-origin nor by shared caches; it varies with the caller.
PRIVATE = [(b"cache-control", b"private, no-cache"), (b"vary", b"Authorization, Cookie")]
PUBLIC = [(b"cache-control", b"public, no-cache"), *CORS]
NOT_FOUND_BODY = b'{"error":"not_found","message":"Not found"}'
UNAVAILABLE_BODY = (b'{"error":"unavailable","message":"The status data cannot be read right '
                    b'now; try again shortly."}')


@dataclass(frozen=True)
class Entry:
    """One rendered body for one page sequence."""

    sequence: int
    visibility: Visibility
    body: bytes
    etag: str
    last_modified: str
    headers: list[tuple[bytes, bytes]]  # without content-length
    made: float = 0.0  # time.monotonic() when rendered

    @cached_property
    def headers_200(self) -> list[tuple[bytes, bytes]]:
        """The headers of a 200 with this body (with its content-length), built once."""
        return [*self.headers, (b"content-length", str(len(self.body)).encode())]

    @cached_property
    def headers_304(self) -> list[tuple[bytes, bytes]]:
        """The headers of a 304 for this body: no content-type, no content-length."""
        return [h for h in self.headers if h[0] != b"content-type"]


class CachedResponse(Response):
    """A response whose headers were built once, when its body was rendered."""

    def __init__(self, body: bytes, status_code: int, headers: list[tuple[bytes, bytes]]
                 ) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = headers if status_code == 304 else [
            *headers, (b"content-length", str(len(body)).encode())]


def not_found() -> Response:
    """The one 404 of these formats: the same for an unknown page and a hidden one."""
    return CachedResponse(NOT_FOUND_BODY, 404, [
        (b"content-type", b"application/json"), (b"cache-control", b"no-store"),
    ])


def unavailable() -> Response:
    """503 in JSON: the database cannot be read and there is no last good state to serve."""
    return CachedResponse(UNAVAILABLE_BODY, 503, [
        (b"content-type", b"application/json"), (b"cache-control", b"no-store"),
        (b"retry-after", b"5"),
    ])


class ReadCache:
    """Page metadata (re-read at most once a second), snapshots and bodies by sequence."""

    def __init__(self, refresh: float = REFRESH_SECONDS,
                 shared: SharedLastGood | None = None) -> None:
        self.refresh = refresh
        # The last good state other processes can read (web/stale_shared.py; Redis only).
        self.shared = shared or SharedLastGood(None)
        self._metas: dict[str, tuple[PageMeta | None, float]] = {}
        self._default: tuple[str | None, float] | None = None
        self._snapshots: dict[str, tuple[int, PageSnapshot | None]] = {}
        self._entries: dict[tuple[str, str], Entry] = {}
        self._inflight: dict[Any, asyncio.Future[Any]] = {}
        self._floor: dict[str, int] = {}  # page id -> the latest sequence announced here
        # page id -> (the newest sequence seen here, when it was first seen)
        self._learned: dict[str, tuple[int, float]] = {}
        # The last page identities read, kept while the database is down (never expire).
        self._good_metas: dict[str, PageMeta] = {}
        self._good_default: str | None = None
        self._unlisten: Callable[[], None] | None = None
        # Bumped by every local change: a load that began before it does not store its result.
        self._generation = 0

    def listen(self) -> None:
        if self._unlisten is None:
            self._unlisten = hub.add_local_listener(self.on_change)

    def close(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def clear(self) -> None:
        self._metas.clear()
        self._default = None
        self._floor.clear()
        self._snapshots.clear()
        self._entries.clear()
        self._learned.clear()
        self._good_metas.clear()
        self._good_default = None

    def _saw(self, page_id: str, sequence: int, *, late: bool = False) -> None:
        """Note a page's sequence. `late`: read back from the database, up to a second after
        another process committed it, so no grace is left for serving the previous body."""
        known = self._learned.get(page_id)
        if known is None or sequence > known[0]:
            if len(self._learned) >= MAX_SLUGS:
                self._learned.clear()
            self._learned[page_id] = (sequence, time.monotonic() - (STALE_GRACE if late else 0))

    def _within_grace(self, meta: PageMeta) -> bool:
        """Whether the previous body may still stand in for `meta.sequence` while it renders."""
        known = self._learned.get(meta.id)
        return known is not None and time.monotonic() - known[1] < STALE_GRACE

    def on_change(self, change: PageChange) -> None:
        """A change committed by this process: forget what we knew of that page."""
        self._generation += 1
        self._default = None
        self._floor[change.page_id] = max(change.sequence, self._floor.get(change.page_id, 0))
        self._saw(change.page_id, change.sequence)
        if change.kind == "PAGE_EDITED":  # visibility may have changed: no stale copy of it
            for slug in [s for s, m in self._good_metas.items() if m.id == change.page_id]:
                self.shared.put_meta(slug, None)  # nor in the other processes
            self._good_metas = {slug: m for slug, m in self._good_metas.items()
                                if m.id != change.page_id}
        # Unknown slugs go too: a new or renamed page may now own one we remember as absent.
        self._metas = {slug: known for slug, known in self._metas.items()
                       if known[0] is not None and known[0].id != change.page_id}
        self._snapshots.pop(change.page_id, None)

    async def _once(self, key: Any, load: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """One load per key at a time, in its own task: concurrent callers share its result,
        and a caller that goes away (client disconnect) does not cancel it for the others."""
        result: T = await asyncio.shield(self._start(key, load))
        return result

    async def idle(self) -> None:
        """Wait until no load or render is in flight (for tests: "once the render is done")."""
        while self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    def _start(self, key: Any, load: Callable[[], Coroutine[Any, Any, T]]
               ) -> asyncio.Future[T]:
        """The task loading `key`: the one in flight, or a new one."""
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(load())
            self._inflight[key] = task

            def done(finished: asyncio.Future[Any]) -> None:
                if self._inflight.get(key) is finished:
                    del self._inflight[key]
                if not finished.cancelled():
                    finished.exception()  # retrieved: whoever awaits it re-raises it

            task.add_done_callback(done)
        return task

    def ready(self, slug: str | None, variant: str) -> Entry | None:
        """The body a GET may be answered with at once, nothing to await (the hot path): that
        of `variant` for a public page's current sequence (`ready_meta`, `ready_entry`). None:
        take `meta` and `entry`, which load, render, check the caller of an internal page, or
        wait."""
        meta = self.ready_meta(slug)
        return None if meta is None else self.ready_entry(meta, variant)

    def ready_meta(self, slug: str | None) -> PageMeta | None:
        """A public page's identity when read within the refresh interval (slug None: the
        default page's), without awaiting; None when it must be (re)read, or is not public."""
        if slug is None:
            fresh, slug = self._known_default()
            if not fresh or slug is None:
                return None
        fresh, meta = self._known_meta(slug)
        return meta if fresh and meta is not None and meta.visibility == Visibility.PUBLIC \
            else None

    def ready_entry(self, meta: PageMeta, variant: str, max_age: float | None = None
                    ) -> Entry | None:
        """The body of `variant` already rendered for `meta`'s sequence (at most `max_age`
        ago), as `entry` would answer it at once; None when it must be rendered."""
        entry = self._entries.get((meta.id, variant))
        if entry is None or entry.visibility != meta.visibility or entry.sequence < meta.sequence:
            return None
        if max_age is not None and time.monotonic() - entry.made >= max_age:
            return None
        return entry

    def _known_meta(self, slug: str, at_least: int | None = None
                    ) -> tuple[bool, PageMeta | None]:
        """(whether the identity read for `slug` may answer: read within the refresh interval
        and not behind `at_least` or a change announced here, that identity or None)."""
        known = self._metas.get(slug)
        if known is not None and time.monotonic() - known[1] < self.refresh:
            meta = known[0]
            if meta is None or meta.sequence >= max(self._floor.get(meta.id, 0),
                                                    at_least or 0):
                return True, meta
        return False, None

    def _known_default(self) -> tuple[bool, str | None]:
        """(whether the default slug read here may answer, that slug or None)."""
        known = self._default
        if known is not None and time.monotonic() - known[1] < self.refresh:
            return True, known[0]
        return False, None

    async def meta(self, slug: str, at_least: int | None = None) -> PageMeta | None:
        """The page's identity and sequence, at most a second old (or `at_least` this one)."""
        fresh, known = self._known_meta(slug, at_least)
        if fresh:
            return known

        async def load() -> PageMeta | None:
            generation = self._generation
            meta = await page_meta(slug=slug)
            if len(self._metas) >= MAX_SLUGS:
                self._metas.clear()  # unknown slugs are remembered too: keep that bounded
            if len(self._good_metas) >= MAX_SLUGS:
                self._good_metas.clear()
            self.shared.put_meta(slug, meta)
            if meta is None:
                self._good_metas.pop(slug, None)
            else:
                self._saw(meta.id, meta.sequence, late=True)
                self._good_metas[slug] = meta
            if generation == self._generation:
                self._metas[slug] = (meta, time.monotonic())
            return meta

        return await self._once(("meta", slug), load)

    async def default_slug(self) -> str | None:
        fresh, known = self._known_default()
        if fresh:
            return known

        async def load() -> str | None:
            generation = self._generation
            slug = await default_slug()
            self._good_default = slug
            self.shared.put_default(slug)
            if generation == self._generation:
                self._default = (slug, time.monotonic())
            return slug

        return await self._once(("default",), load)

    async def snapshot(self, meta: PageMeta) -> PageSnapshot | None:
        known = self._snapshots.get(meta.id)
        if known is not None and known[0] >= meta.sequence:
            return known[1]

        async def load() -> PageSnapshot | None:
            snap = await snapshot(page_id=meta.id)
            # Tag it with the sequence known before reading: never newer than what it shows.
            self._snapshots[meta.id] = (meta.sequence, snap)
            return snap

        return await self._once(("snapshot", meta.id, meta.sequence), load)

    async def entry(self, meta: PageMeta, variant: str, media_type: str, render: Render,
                    *, max_age: float | None = None, stale_ok: bool = True) -> Entry | None:
        """The body of `variant` for the page's sequence (rendered at most `max_age` ago).

        While a newer one renders, the previous body answers (`stale_ok`): for the same
        sequence when only `max_age` ran out, for an older one within `STALE_GRACE`."""
        ready = self.ready_entry(meta, variant, max_age)
        if ready is not None:
            return ready
        key = (meta.id, variant)
        known = self._entries.get(key)
        task = self._start(("entry", key, meta.sequence),
                           lambda: self._render(meta, variant, media_type, render))
        if stale_ok and known is not None and known.visibility == meta.visibility and (
                known.sequence >= meta.sequence or self._within_grace(meta)):
            return known
        return await asyncio.shield(task)

    async def _render(self, meta: PageMeta, variant: str, media_type: str, render: Render
                      ) -> Entry | None:
        key = (meta.id, variant)
        try:
            snap = await self.snapshot(meta)
            if snap is None:
                return None
            body = render(snap)
            if inspect.isawaitable(body):
                body = await body
        except Exception:
            log.warning("rendering %s of page %s failed", variant, meta.slug, exc_info=True)
            raise
        if body is None:
            return None
        entry = _entry(meta, body, media_type)
        current = self._entries.get(key)
        if current is None or current.sequence <= entry.sequence:
            self._entries[key] = entry
        if meta.visibility == Visibility.PUBLIC:  # never an internal page's
            self.shared.put(meta.id, variant, entry.sequence, entry.headers, entry.body)
        return entry

    async def stale_meta(self, slug: str | None) -> PageMeta | None:
        """For when the database cannot be read: the page's last identity read here, if it was
        public then (None: unknown, or last seen internal); when this process never read that
        page (or another process read a newer identity of it), what the processes share
        (web/stale_shared.py)."""
        if slug is None:
            slug = self._good_default
            if slug is None and self.shared.enabled:
                slug = await self.shared.default_slug()
            if slug is None:
                return None
        local = self._good_metas.get(slug)
        if self.shared.enabled:
            other = await self.shared.meta(slug)
            if other is not None and (local is None or (
                    other.id == local.id and other.sequence > local.sequence)):
                local = other
        return local if local is not None and local.visibility == Visibility.PUBLIC else None

    async def stale_entry(self, meta: PageMeta | None, variant: str, lang: str | None = None
                          ) -> tuple[Entry, str | None] | None:
        """For when the database cannot be read: the last body of `variant` of a page last
        seen public (`stale_meta`), here or shared, and the language it is in. A language
        never rendered falls back to the page's own language (`variant` ends with `:lang`)."""
        if meta is None or meta.visibility != Visibility.PUBLIC:
            return None
        tries = [(variant, lang)]
        if lang is not None and lang != meta.language and variant.endswith(":" + lang):
            tries.append((variant[:-len(lang)] + meta.language, meta.language))
        for name, language in tries:
            entry = self._entries.get((meta.id, name))
            if entry is not None and entry.visibility == Visibility.PUBLIC:
                return entry, language
            kept = await self.shared.get(meta.id, name)
            if kept is not None:
                sequence, headers, body = kept
                etag = next((v.decode("latin-1") for k, v in headers if k == b"etag"), "")
                modified = next((v.decode("latin-1") for k, v in headers
                                 if k == b"last-modified"), "")
                return Entry(sequence, Visibility.PUBLIC, body, etag, modified, headers,
                             time.monotonic()), language
        return None


def _entry(meta: PageMeta, body: bytes, media_type: str) -> Entry:
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    last_modified = format_datetime(
        meta.updated_at.astimezone(UTC).replace(microsecond=0), usegmt=True)
    headers = [
        (b"content-type", media_type.encode()),
        (b"etag", etag.encode()),
        (b"last-modified", last_modified.encode()),
        *(PUBLIC if meta.visibility == Visibility.PUBLIC else PRIVATE),
    ]
    return Entry(meta.sequence, meta.visibility, body, etag, last_modified, headers,
                 time.monotonic())
