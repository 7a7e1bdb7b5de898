"""The last good state shared between web processes through Redis (when BROADCAST_URL is one).

Each process keeps its last good bodies in memory (web/readcache.py, web/page_stale.py); with
Redis, it also writes each public page's bodies there, so a process that never served a page
(another worker, a restarted one) can answer from them while the database is down. Keys are
per page id and representation (format, path under `/p/{slug}`, language), never per raw URL
or host: a custom domain's paths are rewritten to `/p/{slug}/…` before routing
(web/domains.py), and links in the bodies come from the page's domains, not from the request.
The domain-map version in local keys (`@N`) is left out. Keys start with `PREFIX` and a hash of
DATABASE_URL, so installations (and test runs) sharing one Redis never meet.

Written only for public pages, and only when the page's sequence changed since this process
last wrote that key (or a day ago); bodies over `MAX_ITEM` are skipped; every key expires after
`TTL`. A failed read makes the next `PAUSE` seconds read nothing (Redis down too). The
page's identity (`slug` -> id, visibility, language, sequence) is shared too, and is what
decides: a page another process last saw internal is not served from Redis. Writes run in the
background; reads are bounded by `TIMEOUT`, and a Redis failure reads as "nothing kept"."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis

from models.enums import Visibility
from resolvers.statuspage import PageMeta

log = logging.getLogger("heliograph.web")

PREFIX = "heliograph:lastgood:"
TTL = 7 * 24 * 3600
MAX_ITEM = 2 * 1024 * 1024
TIMEOUT = 0.5
MAX_WRITTEN = 4096
REWRITE = 86400  # a key unchanged this long is written again (its expiry renewed)
PAUSE = 5.0  # seconds without reads after one failed
VERSION = re.compile(r"@\d+")

# A kept body: its sequence, headers (without content-length) and bytes.
Kept = tuple[int, list[tuple[bytes, bytes]], bytes]


def database_name(url: str) -> str:
    """The database a URL names, without its credentials (the namespace of the keys)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"


def shared_key(variant: str) -> str:
    """The representation's key between processes: without the local domain-map version."""
    return VERSION.sub("", variant)


class SharedLastGood:
    """Last good bodies and page identities in Redis; without a Redis URL, nothing at all."""

    def __init__(self, url: str | None, namespace: str = "") -> None:
        self.url = url if url and url.startswith(("redis://", "rediss://")) else None
        # Per installation (database): two sharing one Redis never meet.
        self.prefix = PREFIX + hashlib.blake2b(namespace.encode(), digest_size=6).hexdigest() \
            + ":"
        self._client: aioredis.Redis | None = None
        self._written: dict[str, Any] = {}  # key -> what was last written there
        self._tasks: set[asyncio.Task[None]] = set()
        self._down_until = 0.0  # after a failed read, none until then

    @property
    def enabled(self) -> bool:
        return self.url is not None

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            assert self.url is not None
            self._client = aioredis.from_url(self.url, socket_timeout=TIMEOUT,
                                             socket_connect_timeout=TIMEOUT)
        return self._client

    async def settled(self) -> None:
        """Wait for the writes begun so far (tests; shutting down)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=2 * TIMEOUT)

    async def close(self) -> None:
        await self.settled()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _write(self, key: str, mark: Any, value: bytes | None) -> None:
        """Set (or delete, `value` None) `key` in the background, unless `mark` is what this
        process last wrote there."""
        mark = (mark, int(time.time() // REWRITE))  # rewritten daily: the TTL never runs out
        if not self.enabled or self._written.get(key, ...) == mark:
            return
        if len(self._written) >= MAX_WRITTEN:
            self._written.clear()
        self._written[key] = mark

        async def write() -> None:
            try:
                if value is None:
                    await self._redis().delete(self.prefix + key)
                else:
                    await self._redis().set(self.prefix + key, value, ex=TTL)
            except Exception:
                self._written.pop(key, None)
                log.warning("keeping the last good state in Redis failed", exc_info=True)

        task = asyncio.ensure_future(write())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, key: str) -> bytes | None:
        if not self.enabled or time.monotonic() < self._down_until:
            return None
        try:
            value = await asyncio.wait_for(self._redis().get(self.prefix + key), 2 * TIMEOUT)
        except Exception:
            # Redis down too: no request waits for it again for a while.
            self._down_until = time.monotonic() + PAUSE
            log.warning("reading the last good state from Redis failed", exc_info=True)
            return None
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    def put_meta(self, slug: str, meta: PageMeta | None) -> None:
        if meta is None:
            self._write("slug:" + slug, None, None)
            return
        fields = {"id": meta.id, "slug": meta.slug, "visibility": meta.visibility.value,
                  "sequence": meta.sequence, "updated_at": meta.updated_at.isoformat(),
                  "language": meta.language,
                  "allow_visitor_language": meta.allow_visitor_language}
        self._write("slug:" + slug, tuple(fields.values()), json.dumps(fields).encode())

    def put_default(self, slug: str | None) -> None:
        self._write("default", slug, slug.encode() if slug is not None else None)

    def put(self, page_id: str, variant: str, sequence: int,
            headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if len(body) > MAX_ITEM:
            return
        head = json.dumps({"sequence": sequence, "headers": [
            [name.decode("latin-1"), value.decode("latin-1")] for name, value in headers]})
        self._write(f"body:{page_id}:{shared_key(variant)}", sequence,
                    head.encode() + b"\n" + body)

    def put_domains(self, pairs: list[tuple[str, str]]) -> None:
        """The page domains map (resolvers/domains.py), for a process that never read it."""
        self._write("domains", tuple(pairs), json.dumps(pairs).encode())

    async def domains(self) -> list[tuple[str, str]]:
        raw = await self._read("domains")
        try:
            return [(str(h), str(s)) for h, s in json.loads(raw)] if raw is not None else []
        except (ValueError, TypeError):
            return []

    async def meta(self, slug: str) -> PageMeta | None:
        raw = await self._read("slug:" + slug)
        if raw is None:
            return None
        try:
            fields = json.loads(raw)
            return PageMeta(id=fields["id"], slug=fields["slug"],
                            visibility=Visibility(fields["visibility"]),
                            sequence=int(fields["sequence"]),
                            updated_at=datetime.fromisoformat(fields["updated_at"]),
                            language=fields["language"],
                            allow_visitor_language=bool(fields["allow_visitor_language"]))
        except (ValueError, KeyError, TypeError):
            return None

    async def default_slug(self) -> str | None:
        raw = await self._read("default")
        return raw.decode() if raw is not None else None

    async def get(self, page_id: str, variant: str) -> Kept | None:
        raw = await self._read(f"body:{page_id}:{shared_key(variant)}")
        if raw is None or b"\n" not in raw:
            return None
        head, body = raw.split(b"\n", 1)
        try:
            fields = json.loads(head)
            headers = [(name.encode("latin-1"), value.encode("latin-1"))
                       for name, value in fields["headers"]]
            return int(fields["sequence"]), headers, body
        except (ValueError, KeyError, TypeError):
            return None
