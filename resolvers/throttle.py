"""Abuse limits shared by every process: hit counters per key and fixed window, in the
database (`rate_counter`), with the keys they count — a normalised mailbox, a client network.

A hit is one conditional upsert (`INSERT … ON CONFLICT DO UPDATE … WHERE hits < limit
RETURNING hits`, on SQLite and PostgreSQL alike): it counts and answers in one statement, and
a refused hit counts nothing. Nothing per key is kept in process memory; rows whose window is
over are pruned."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import time
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from models.base import new_id
from models.throttle import RateCounter

HOUR = 3600
DAY = 86400
PRUNE_EVERY = 60.0  # seconds between two prunes by one process
_last_prune = 0.0  # the only state kept in memory: one number per process

# Mail providers that ignore dots in the local part (Google documents it for Gmail).
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window: int  # seconds


def mailbox(address: str) -> str:
    """The mailbox an address delivers to, for counting: lower-case, `+tag` dropped, and
    dots dropped where the provider ignores them (gmail.com, googlemail.com)."""
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"


def mailbox_key(address: str) -> str:
    """A counter key for a mailbox: hashed, so counters hold no address."""
    return "mailbox:" + hashlib.sha256(mailbox(address).encode()).hexdigest()[:40]


def network(ip: str) -> str:
    """The network a client address belongs to: its IPv4 /24 or IPv6 /64."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()[:64]  # not an IP (a test client, a unix socket): itself
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def window_of(limit: Limit, now: float) -> int:
    return int(now // limit.window * limit.window)


def _sql(conn: BaseDBAsyncClient, text: str) -> str:
    """`$n` placeholders for PostgreSQL, `?` for SQLite."""
    if conn.capabilities.dialect == "postgres":
        return text
    return re.sub(r"\$\d+", "?", text)


async def hit(limit: Limit, conn: BaseDBAsyncClient, now: float | None = None) -> bool:
    """Count one hit; False (and nothing counted) when the key already has `limit` hits in
    the current window."""
    now = time.time() if now is None else now
    start = window_of(limit, now)
    rows = await conn.execute_query_dict(_sql(conn, """
        INSERT INTO rate_counter (id, key, window_start, hits, expires_at)
        VALUES ($1, $2, $3, 1, $4)
        ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_counter.hits + 1
        WHERE rate_counter.hits < $5
        RETURNING hits"""), [new_id(), limit.key, start, start + limit.window, limit.limit])
    return bool(rows)


async def unhit(limit: Limit, conn: BaseDBAsyncClient, now: float | None = None) -> None:
    """Take back a hit counted earlier in the same transaction."""
    start = window_of(limit, time.time() if now is None else now)
    await RateCounter.filter(key=limit.key, window_start=start, hits__gt=0).using_db(
        conn).update(hits=F("hits") - 1)


async def hits(limit: Limit, now: float | None = None) -> int:
    """Hits of the key in the current window."""
    start = window_of(limit, time.time() if now is None else now)
    row = await RateCounter.filter(key=limit.key, window_start=start).first()
    return row.hits if row else 0


async def prune(now: float | None = None) -> int:
    """Delete counters whose window is over (at most once a minute per process)."""
    global _last_prune
    now = time.time() if now is None else now
    if now - _last_prune < PRUNE_EVERY:
        return 0
    _last_prune = now
    return await RateCounter.filter(expires_at__lte=int(now)).delete()
