"""Rendered HTML of public pages for anonymous visitors, per page and sequence.

Bars and availability move with the clock, so an entry also expires after `MAX_AGE` seconds.
The page's sequence is re-read at most once a second, or at once when a caller needs a newer
one (live.js asks for the events of the sequence it was pushed), so a change is never hidden."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from models.enums import Visibility
from realtime import PageChange, hub
from resolvers.statuspage import PageMeta, page_meta

MAX_AGE = 30.0
REFRESH = 1.0
MAX_ENTRIES = 512


@dataclass(frozen=True)
class Entry:
    sequence: int
    body: bytes
    made: float


class HtmlCache:
    def __init__(self) -> None:
        self._metas: dict[str, tuple[PageMeta | None, float]] = {}
        self._entries: dict[tuple[str, str], Entry] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._listening = False

    def lock(self, slug: str, variant: str) -> asyncio.Lock:
        """One render per page and variant at a time: when an entry expires under load, the
        waiting visitors get the fresh render instead of each rendering it again."""
        key = (slug, variant)
        found = self._locks.get(key)
        if found is None:
            if len(self._locks) >= MAX_ENTRIES:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            found = self._locks[key] = asyncio.Lock()
        return found

    def forget(self, change: PageChange | None = None) -> None:
        """A change published by this process: re-read sequences now, not within a second."""
        self._metas.clear()

    async def meta(self, slug: str, at_least: int | None = None) -> PageMeta | None:
        """The page's identity and sequence, at most a second old unless a newer one is due."""
        if not self._listening:
            self._listening = True
            hub.add_local_listener(self.forget)
        known = self._metas.get(slug)
        now = time.monotonic()
        if known is not None and now - known[1] < REFRESH:
            meta = known[0]
            if at_least is None or (meta is not None and meta.sequence >= at_least):
                return meta
        meta = await page_meta(slug=slug)
        self._metas[slug] = (meta, now)
        return meta

    async def get(self, slug: str, variant: str, at_least: int | None = None) -> bytes | None:
        """The cached body when it shows the page's current sequence and is fresh enough."""
        meta = await self.meta(slug, at_least)
        if meta is None or meta.visibility != Visibility.PUBLIC:
            return None
        entry = self._entries.get((slug, variant))
        if entry is None or entry.sequence != meta.sequence \
                or time.monotonic() - entry.made > MAX_AGE:
            return None
        return entry.body

    def put(self, slug: str, variant: str, sequence: int, body: bytes) -> None:
        """Remember a body rendered for an anonymous visitor of a public page."""
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # slugs are few; a full cache means churn, start again
        self._entries[(slug, variant)] = Entry(sequence, body, time.monotonic())


cache = HtmlCache()


class Recent:
    """Values by key for `max_age` seconds (callers put the page's sequence in the key)."""

    def __init__(self, max_age: float, max_entries: int = 256) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self._values: dict[tuple[object, ...], tuple[float, object]] = {}

    def get(self, key: tuple[object, ...]) -> object | None:
        found = self._values.get(key)
        if found is None or time.monotonic() - found[0] > self.max_age:
            return None
        return found[1]

    def put(self, key: tuple[object, ...], value: object) -> None:
        if len(self._values) >= self.max_entries:
            self._values.clear()
        self._values[key] = (time.monotonic(), value)


# Bars and availability are the same for everyone allowed to see the page (visibility is
# checked before they are read), and the dearest part of a page: shared by every visitor.
figures = Recent(MAX_AGE)
