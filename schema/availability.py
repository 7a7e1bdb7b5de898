"""Availability figures, the intervals behind them, and daily bars (PRODUCT.md §4, §9, §10).

Every field of one request shares one `Reader` (one `now`, each page's ledger loaded once),
kept with the request's loaders (`info.context.loaders.availability`, schema.loaders)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from models import Component, StatusPage
from models.base import utcnow
from resolvers import daily_bars as bars
from resolvers.availability import Figures, Reader
from resolvers.availability_timeline import gc_paused
from schema.base import ComponentStatus
from schema.context import Info
from schema.plain_rows import MemoList

if TYPE_CHECKING:
    from schema.component import ComponentType
    from schema.event import EventType

BARS, ROWS = "schema bars", "completed rows"  # keys of resolvers.daily_bars.PastDays.attached
READER_LIFETIME = timedelta(seconds=60)


def reader_of(info: Info) -> Reader:
    """The request's availability reader (created on first use)."""
    reads = info.context.loaders.availability
    reader = reads.reader
    # A live page state shares its loaders (and so these reads) across messages for as long
    # as its sequence holds: figures that depend on now must not grow older than a request
    # could last.
    if reader is None or utcnow() - reader.now > READER_LIFETIME:
        reader = reads.reader = Reader()
    return reader


async def events_of(info: Info, ids: Sequence[str], page: StatusPage) -> list[Any]:
    """The events with these ids as `Event` objects, in one query per request and batch."""
    from schema.event import EventType

    if not ids:
        return []
    loader = info.context.loaders.availability.events
    return [EventType.from_model(e, page) for e in await loader.load_many(list(ids))
            if e is not None]


@strawberry.type(description="A stretch of one component's time at one status, with the "
                             "events responsible for it (empty when OPERATIONAL).")
class AvailabilityInterval:
    component_id: strawberry.ID
    start: datetime
    end: datetime
    status: ComponentStatus
    event_ids: list[strawberry.ID]
    model: strawberry.Private[Component]
    page_model: strawberry.Private[StatusPage]

    @strawberry.field
    async def component(self, info: Info) -> Annotated[
        ComponentType, strawberry.lazy("schema.component")
    ]:
        from schema.component import ComponentType

        return ComponentType.from_model(self.model, self.page_model)

    @strawberry.field(description="The events holding the component at this status.")
    async def events(
        self, info: Info
    ) -> list[Annotated[EventType, strawberry.lazy("schema.event")]]:
        return await events_of(info, self.event_ids, self.page_model)


@strawberry.type(description="uptime = total − maintenance − downtime; ratio = uptime / "
                             "(total − maintenance). DEGRADED counts as up.")
class Availability:
    ratio: float | None = strawberry.field(
        description="uptime / (total − maintenance), 0–1 unrounded; null when nothing counts."
    )
    uptime_seconds: float
    downtime_seconds: float = strawberry.field(description="Time in PARTIAL_OUTAGE or "
                                                           "FULL_OUTAGE.")
    maintenance_seconds: float = strawberry.field(description="Time in UNDER_MAINTENANCE "
                                                              "(excluded from both sides).")
    total_seconds: float = strawberry.field(description="Σ over components of the window's "
                                                        "length after clipping to `since`.")
    figures: strawberry.Private[Figures]
    page_model: strawberry.Private[StatusPage]

    @classmethod
    def from_figures(cls, figures: Figures, page: StatusPage) -> Availability:
        return cls(
            ratio=figures.ratio, uptime_seconds=figures.seconds(figures.uptime_us),
            downtime_seconds=figures.seconds(figures.downtime_us),
            maintenance_seconds=figures.seconds(figures.maintenance_us),
            total_seconds=figures.seconds(figures.total_us), figures=figures, page_model=page,
        )

    # Computed when asked for: a page's 200 × 90 bars rarely ask, and they add up.
    @strawberry.field(description="The earliest counted instant.")
    def start(self) -> datetime:
        return self.figures.start

    @strawberry.field(description="The window's end (never after now).")
    def end(self) -> datetime:
        return self.figures.end

    @strawberry.field(description="What the figures were computed from: per component, in "
                                  "time order, covering its counted window without gaps.")
    def intervals(self, info: Info) -> list[AvailabilityInterval]:
        # Past days' figures are kept across requests: name the request's page and components.
        reads = info.context.loaders.availability
        page = reads.pages.get(self.page_model.id, self.page_model)
        current = reads.components
        return [
            AvailabilityInterval(
                component_id=strawberry.ID(i.component.id), start=i.start, end=i.end,
                status=i.status, event_ids=[strawberry.ID(e) for e in i.event_ids],
                model=current.get(i.component.id, i.component), page_model=page,
            )
            for i in self.figures.intervals()
        ]


@strawberry.type(description="One local day of the page's time zone.")
class DailyBar:
    date: date
    status: ComponentStatus | None = strawberry.field(
        description="The worst status of the day; null before `since`."
    )
    availability: Availability
    event_ids: list[strawberry.ID]
    # A plain list filled by `components_daily_bars` (only when the query selects it): a
    # resolver per bar would cost an asyncio task each, 18,000 on a 200-component page.
    events: list[Annotated[EventType, strawberry.lazy("schema.event")]] = strawberry.field(
        description="The events that touched the day."
    )
    page_model: strawberry.Private[StatusPage]


async def page_availability(info: Info, page: StatusPage, start: datetime | None,
                            end: datetime | None) -> Availability:
    """Σ uptime / Σ (total − maintenance) over every component of the page."""
    components = await info.context.loaders.components_by_page.load(page.id)
    return await components_availability(info, page, components, start, end)


async def components_availability(info: Info, page: StatusPage, components: list[Component],
                                  start: datetime | None, end: datetime | None) -> Availability:
    """Figures of one component, a group's components or a page's over [start, end)."""
    _current(info, page, components)
    figures = await bars.availability(reader=reader_of(info), page=page,
                                      components=components, start=start, end=end)
    return Availability.from_figures(figures, page)


async def components_daily_bars(info: Info, page: StatusPage, components: list[Component],
                                days: int) -> list[DailyBar]:
    """`days` bars ending today in the page's zone, over these components.

    The days before today are kept across requests (resolvers.daily_bars), and so are their
    objects here, built once: they hold nothing of the request (`Availability.intervals`
    reads the current page and components). Without `events`, the list lets the executor
    reuse their completed rows too (schema.plain_rows.MemoList)."""
    _current(info, page, components)
    past, today = await bars.bar_parts(reader=reader_of(info), page=page,
                                       components=components, days=days)
    kept = keep_bars(page, components, past)
    last = _bar(today, page)
    if not _selects(info, "events"):
        return MemoList([*kept, last], memo=past.attached.setdefault(ROWS, {}),
                        fixed=len(kept))
    ids = list(dict.fromkeys(e for bar in (*past.bars, today) for e in bar.figures.touched))
    events: dict[str, Any] = {e.id: e for e in await events_of(info, ids, page)}
    with gc_paused():  # a day no event touched is the kept object itself (no events)
        return [
            DailyBar(date=bar.date, status=bar.status, availability=bar.availability,
                     event_ids=bar.event_ids, page_model=page,
                     events=[events[e] for e in bar.event_ids if e in events])
            if events and bar.event_ids else bar
            for bar in (*kept, last)
        ]


def keep_bars(page: StatusPage, components: Sequence[Component], past: bars.PastDays
              ) -> list[DailyBar]:
    """The past days' bar objects, built once and kept with them (also by the warm-up,
    resolvers.availability_warmup)."""
    kept: list[DailyBar] | None = past.attached.get(BARS)
    if kept is None:
        with gc_paused():  # 90 objects per item, no cycles
            kept = past.attached[BARS] = [_bar(bar, page) for bar in past.bars]
    return kept


def _bar(bar: bars.Bar, page: StatusPage) -> DailyBar:
    return DailyBar(date=bar.date, status=bar.status,
                    availability=Availability.from_figures(bar.figures, page),
                    event_ids=bar.event_ids,  # type: ignore[arg-type]  # ids are str
                    events=[], page_model=page)


def _current(info: Info, page: StatusPage, components: Sequence[Component]) -> None:
    """Note the request's page and components: figures kept across requests hold older ones."""
    reads = info.context.loaders.availability
    reads.pages[page.id] = page
    for component in components:
        reads.components[component.id] = component


def _selects(info: Info, name: str) -> bool:
    """Whether the field's sub-selection (through fragments) names a field."""
    raw = info._raw_info
    fragments = raw.fragments

    def named(selection_set: SelectionSetNode | None) -> bool:
        for node in selection_set.selections if selection_set is not None else ():
            if isinstance(node, FieldNode):
                if node.name.value == name:
                    return True
            elif isinstance(node, InlineFragmentNode):
                if named(node.selection_set):
                    return True
            elif isinstance(node, FragmentSpreadNode):
                fragment = fragments.get(node.name.value)
                if fragment is not None and named(fragment.selection_set):
                    return True
        return False

    return any(named(node.selection_set) for node in raw.field_nodes)
