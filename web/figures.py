"""The status page's availability figures and daily bars, computed by the resolvers directly
(no GraphQL round trip) and kept compact: per group and component, one letter per day for the
status, the day's availability and how many events touched it. A bar's events are read on
demand (`/p/{slug}/bars/{item_id}/{date}`, web/bars.py).

Figures depend on the ledger (cached per page and sequence by resolvers.availability) and on
now (today's bar, the 90-day window), so they are kept per (page, sequence) for `MAX_AGE`."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from markupsafe import Markup

from models import Component
from models.enums import ComponentStatus
from resolvers.availability import Reader
from resolvers.daily_bars import availability, daily_bars
from resolvers.statuspage import PageSnapshot

DAYS = 90
MAX_AGE = 15.0  # the page's entry lives 30 s: its figures are at most that much older
MAX_PAGES = 64
CHUNK = 8  # items measured between two yields to the event loop

LETTER = {
    ComponentStatus.OPERATIONAL: "o",
    ComponentStatus.DEGRADED: "d",
    ComponentStatus.PARTIAL_OUTAGE: "p",
    ComponentStatus.FULL_OUTAGE: "f",
    ComponentStatus.UNDER_MAINTENANCE: "m",
    None: "-",
}
CSS_CLASS = {letter: "bar s-" + (status.value.lower().replace("_", "-") if status else "none")
             for status, letter in LETTER.items()}


@dataclass(frozen=True)
class ItemFigures:
    """A component's or a group's availability over the quarter and its daily bars."""

    ratio: float | None
    first: date
    statuses: str  # LETTER per day, oldest first
    ratios: str  # per day: "" for 100%, "-" for no data, else floor(ratio × 10,000); ","-joined
    event_counts: str  # per day: how many events touched it (capped at 9), one digit each
    event_ids: tuple[tuple[str, ...], ...]  # per day: the events, for the details endpoint
    dates: tuple[date, ...]

    @cached_property
    def items(self) -> Markup:
        """The days as bare list items (colour only, end tags omitted): the page without
        JavaScript still shows its bars; bars.js redraws them with tooltips."""
        last = len(self.statuses) - 1
        return Markup("".join(
            f'<li class="{CSS_CLASS[letter]}{" today" if index == last else ""}">'
            if letter != "o" or index == last else "<li class=bar>"
            for index, letter in enumerate(self.statuses)))

    @property
    def days(self) -> int:
        return len(self.statuses)

    def bar_index(self, day: date) -> int | None:
        index = (day - self.first).days
        return index if 0 <= index < len(self.dates) and self.dates[index] == day else None


def _ratio_code(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    if ratio >= 1:
        return ""
    return str(math.floor(ratio * 10000))


async def _item(reader: Reader, snap: PageSnapshot, components: Sequence[Component]
                ) -> ItemFigures:
    found = await daily_bars(reader=reader, page=snap.page, components=components, days=DAYS)
    quarter = await availability(reader=reader, page=snap.page, components=components)
    return ItemFigures(
        ratio=quarter.ratio,
        first=found[0].date,
        statuses="".join(LETTER[bar.status] for bar in found),
        ratios=",".join(_ratio_code(bar.figures.ratio) for bar in found),
        event_counts="".join(str(min(9, len(bar.event_ids))) for bar in found),
        event_ids=tuple(tuple(bar.event_ids) for bar in found),
        dates=tuple(bar.date for bar in found),
    )


async def compute(snap: PageSnapshot) -> dict[str, ItemFigures]:
    """Figures of every group and component of the page, by id."""
    reader = Reader()
    items: list[tuple[str, list[Component]]] = [
        (g.id, [c for c in snap.components if c.group_id == g.id]) for g in snap.groups]
    items += [(c.id, [c]) for c in snap.components]
    result: dict[str, ItemFigures] = {}
    for index, (item_id, components) in enumerate(items):
        if index and index % CHUNK == 0:
            await asyncio.sleep(0)  # a long page must not hold the loop for its whole render
        result[item_id] = await _item(reader, snap, components)
    return result


class FiguresCache:
    """Figures per (page, sequence), computed once at a time, reused for `MAX_AGE`."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[int, float, dict[str, ItemFigures]]] = {}
        self._inflight: dict[tuple[str, int], asyncio.Future[dict[str, ItemFigures]]] = {}

    def clear(self) -> None:
        self._known.clear()

    async def get(self, snap: PageSnapshot) -> dict[str, ItemFigures]:
        page_id, sequence = snap.page.id, int(snap.page.sequence)
        known = self._known.get(page_id)
        if known is not None and known[0] == sequence and time.monotonic() - known[1] < MAX_AGE:
            return known[2]
        key = (page_id, sequence)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(compute(snap))
            self._inflight[key] = task

            def done(finished: asyncio.Future[dict[str, ItemFigures]]) -> None:
                self._inflight.pop(key, None)
                if finished.cancelled() or finished.exception() is not None:
                    return
                if len(self._known) >= MAX_PAGES:
                    self._known.clear()
                current = self._known.get(page_id)
                if current is None or current[0] <= sequence:
                    self._known[page_id] = (sequence, time.monotonic(), finished.result())

            task.add_done_callback(done)
        return await asyncio.shield(task)

