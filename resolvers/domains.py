"""Custom domains of pages: validation, and the process's map of known hosts.

The map (host -> slug, slug -> hosts) is read in one query, at most once a second when asked
(`refresh`), and at once after a page edit in this process (`forget`). A request waits for that
read only when there is no current map (the first read, or the first after `forget`); else an
older-than-a-second map starts a read in the background and the request goes on with the map it
has. Lookups are plain dict reads, so the hot path pays nothing; mail and feed links use
`page_root`."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from urllib.parse import urlsplit

from models import PageDomain, StatusPage
from resolvers.errors import conflict, invalid
from settings import get_settings

log = logging.getLogger("heliograph.domains")

REFRESH_SECONDS = 1.0
MAX_DOMAINS = 5
LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
COLOUR = re.compile(r"^#[0-9a-f]{6}$")

_hosts: dict[str, str] = {}  # host -> slug
_roots: dict[str, str] = {}  # slug -> its first host
_loaded = 0.0
_pending: asyncio.Task[None] | None = None
_generation = 0  # bumped by `forget`: a read begun before it does not store its result
_current = False  # a read of this generation completed: requests need not wait for the next
version = 0  # changes whenever the map's content changes (part of cached bodies' keys)


def host(value: str, field: str = "domains") -> str:
    """A bare host name: lower-cased, no scheme, port, path or trailing dot."""
    value = value.strip().lower().rstrip(".")
    labels = value.split(".")
    if (len(value) > 253 or len(labels) < 2 or not all(LABEL.match(x) for x in labels)
            or labels[-1].isdigit()):
        raise invalid(f"{value!r} is not a host name (like status.example.com, no scheme, "
                      "port or path)", field)
    if value == base_host():
        raise invalid(f"{value!r} is the installation's own host (BASE_URL)", field)
    return value


def hosts(values: list[str]) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        name = host(value)
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_DOMAINS:
        raise invalid(f"A page has at most {MAX_DOMAINS} domains", "domains")
    return cleaned


async def check_free(names: list[str], page_id: str | None) -> None:
    """CONFLICT when another page already has one of `names`."""
    taken = await PageDomain.filter(host__in=names).exclude(page_id=page_id or "").first()
    if taken is not None:
        raise conflict(f"The domain {taken.host!r} belongs to another page", "domains")


def logo_url(value: str, field: str = "logoUrl") -> str:
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or len(value) > 500 or any(
            ch.isspace() or ch in "\"'<>\\" for ch in value):
        raise invalid("The logo is an https:// address of an image (at most 500 characters)",
                      field)
    return value


def accent_color(value: str, field: str = "accentColor") -> str:
    value = value.strip().lower()
    if value and not COLOUR.match(value):
        raise invalid("The accent colour is #rrggbb (like #1f6feb), or empty for the default",
                      field)
    return value


def base_host() -> str:
    return (urlsplit(get_settings().base_url).hostname or "").lower()


def page_root(slug: str, base_url: str | None = None) -> str:
    """The page's public address: https://{first domain} (BASE_URL's scheme), else
    BASE_URL/p/{slug}."""
    base_url = (base_url or get_settings().base_url).rstrip("/")
    domain = _roots.get(slug)
    if domain is not None:
        return f"{urlsplit(base_url).scheme}://{domain}"
    return f"{base_url}/p/{slug}"


def slug_for_host(name: str) -> str | None:
    return _hosts.get(name)


def is_page_origin(origin: str) -> bool:
    """Whether `origin` (scheme://host[:port]) is a page domain, in BASE_URL's scheme (or any
    scheme outside production)."""
    parts = urlsplit(origin.strip().lower())
    settings = get_settings()
    scheme_ok = parts.scheme == urlsplit(settings.base_url).scheme or (
        not settings.production and parts.scheme in ("http", "https"))
    return scheme_ok and parts.hostname is not None and parts.hostname in _hosts


def known() -> list[tuple[str, str]]:
    """The map as (host, slug) pairs, each page's first host first (for other processes)."""
    return list(_hosts.items())


def adopt(pairs: list[tuple[str, str]]) -> bool:
    """Use another process's last map (web/stale_shared.py) while this one has none and the
    database cannot be read; the next successful read replaces it. Whether it was used."""
    global version
    if _current or _hosts or not pairs:
        return False
    for name, slug in pairs:
        _hosts[name] = slug
        _roots.setdefault(slug, name)
    version += 1
    return True


def clear() -> None:
    """Forget the map entirely (tests: a new database)."""
    _hosts.clear()
    _roots.clear()
    forget()


def forget() -> None:
    """A page's domains or slug may have changed here: re-read on the next `refresh`."""
    global _loaded, _pending, _generation, _current
    _loaded = 0.0
    _pending = None
    _generation += 1
    _current = False


async def refresh() -> None:
    """Re-read the map when it is more than a second old (concurrent callers share one read;
    a failed read is not retried for a second either). Only a caller without a current map
    waits for it (and hears its failure); the others go on at once."""
    global _pending
    if time.monotonic() - _loaded < REFRESH_SECONDS:
        return
    if _pending is None or _pending.done():
        _pending = asyncio.ensure_future(_load())
        _pending.add_done_callback(_log_failure)
    if not _current:
        await asyncio.shield(_pending)


def _log_failure(task: asyncio.Task[None]) -> None:
    """A background read that failed: said in the log (the last map stays in use); a read
    someone waited for raised to them instead."""
    if not task.cancelled() and task.exception() is not None and _current:
        log.warning("reading the page domains failed", exc_info=task.exception())


async def _load() -> None:
    global _loaded, version, _current
    started, generation = time.monotonic(), _generation
    try:
        rows = await PageDomain.all().order_by("position").values_list("host", "page__slug")
    except Exception:
        if generation == _generation:
            _loaded = started
        raise
    if generation != _generation:
        return  # a page changed meanwhile: the next refresh reads again
    found_hosts = {str(h): str(s) for h, s in rows}
    found_roots: dict[str, str] = {}
    for h, s in rows:
        found_roots.setdefault(str(s), str(h))
    if found_hosts != _hosts or found_roots != _roots:
        _hosts.clear()
        _hosts.update(found_hosts)
        _roots.clear()
        _roots.update(found_roots)
        version += 1
    _loaded, _current = started, True


async def save(page_id: str, names: list[str], conn: object) -> None:
    """Replace the page's domains with `names` (in the caller's transaction)."""
    await PageDomain.filter(page_id=page_id).using_db(conn).delete()  # type: ignore[arg-type]
    for position, name in enumerate(names):
        await PageDomain.create(page_id=page_id, host=name, position=position,
                                using_db=conn)  # type: ignore[arg-type]


async def of_page(page: StatusPage) -> list[str]:
    return [str(h) for h in await PageDomain.filter(page_id=page.id).order_by("position")
            .values_list("host", flat=True)]
