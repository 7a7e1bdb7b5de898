"""Availability kept warm (issue 13): what the first request after a restart, or after a page's
local midnight, would otherwise build — the page's ledger, each component's and group's past
days (resolvers.daily_bars) and what callers derive from them (`keep`, e.g. the schema's bar
objects) — is built in the background: at the server's start-up, then just after each page's
local midnight. Requests then find it kept, as after any other request.

The server runs `run` when AVAILABILITY_WARMUP is on (default: on unless HELIOGRAPH_ENV is
`test`: a test that counts a request's statements must see none of the warm-up's)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from datetime import datetime, timedelta

from models import Component, ComponentGroup, StatusPage
from models.base import utcnow
from resolvers.availability import Reader
from resolvers.daily_bars import (
    MAX_PAST_BARS,
    QUARTER_DAYS,
    PastDays,
    availability,
    bar_parts,
    day_start,
    zone,
)

log = logging.getLogger(__name__)

BUDGET = MAX_PAST_BARS // 2  # past bars warmed per round: the rest stays for requests
CHUNK = 8  # items warmed between two yields to the event loop
AFTER_MIDNIGHT = timedelta(seconds=2)
MAX_SLEEP = timedelta(minutes=15)  # new pages and changed zones are seen at least this often

# What a caller derives from an item's past days, built with them (page, components, past).
Keep = Callable[[StatusPage, Sequence[Component], PastDays], object]


async def warm_page(page: StatusPage, keep: Iterable[Keep] = ()) -> int:
    """Build the page's kept availability (its groups' and components' 90 days, in the order
    requests ask for them); the number of past bars it holds."""
    groups = await ComponentGroup.filter(page_id=page.id).order_by("position", "created_at")
    components = await Component.filter(page_id=page.id).order_by("position", "created_at")
    items = [[c for c in components if c.group_id == g.id] for g in groups]
    items += [[c] for c in components]
    reader = Reader()
    keepers = list(keep)
    bars = 0
    for index, members in enumerate(items):
        if index % CHUNK == 0:
            await asyncio.sleep(0)  # requests meanwhile wait for a few items, not the page
        past, _ = await bar_parts(reader=reader, page=page, components=members,
                                  days=QUARTER_DAYS)
        await availability(reader=reader, page=page, components=members)
        for derive in keepers:
            derive(page, members, past)
        bars += len(past.bars)
    return bars


def next_midnight(time_zone: str, now: datetime) -> datetime:
    """The first instant of the next local date in the zone."""
    tz = zone(time_zone)
    return day_start(now.astimezone(tz).date() + timedelta(days=1), tz)


async def warm_round(warmed: dict[str, object], keep: Iterable[Keep] = ()) -> datetime:
    """Warm every page whose local date moved since it was last warmed (most recently updated
    first, within BUDGET); when to look again."""
    now = utcnow()
    wake = now + MAX_SLEEP
    budget = BUDGET
    for page in await StatusPage.all().order_by("-updated_at"):
        today = now.astimezone(zone(page.time_zone)).date()
        wake = min(wake, next_midnight(page.time_zone, now) + AFTER_MIDNIGHT)
        if warmed.get(page.id) == today:
            continue
        warmed[page.id] = today  # also when out of budget: not tried again until tomorrow
        if budget > 0:
            budget -= await warm_page(page, keep)
    return wake


async def run(stop: asyncio.Event, keep: Iterable[Keep] = ()) -> None:
    """Warm at start-up, then after each page's local midnight, until `stop` is set."""
    warmed: dict[str, object] = {}  # page id -> the local date it was warmed for
    keepers = list(keep)
    while not stop.is_set():
        try:
            wake = await warm_round(warmed, keepers)
        except Exception:  # the database away: requests build what they need meanwhile
            log.warning("availability warm-up failed", exc_info=True)
            wake = utcnow() + timedelta(minutes=1)
        seconds = max(1.0, (wake - utcnow()).total_seconds())
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
