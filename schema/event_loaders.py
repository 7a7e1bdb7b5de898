"""Per-request data loaders for events (`info.context.loaders.events`, never global)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from models import Component, EventComponent, EventUpdate, UpdateImpact
from models.enums import ComponentStatus

Impacts = list[tuple[Component, ComponentStatus]]


async def _components_by_id(ids: list[str]) -> list[Component | None]:
    rows = {c.id: c for c in await Component.filter(id__in=ids)}
    return [rows.get(i) for i in ids]


@dataclass
class EventLoaders:
    component: DataLoader[str, Component | None] = field(
        default_factory=lambda: DataLoader(_components_by_id)
    )
    # event id -> [(update, the impacts it set)] in time order
    updates: DataLoader[str, list[tuple[EventUpdate, Impacts]]] = field(init=False)
    # event id -> [(component, its current impact)] by position
    affected: DataLoader[str, Impacts] = field(init=False)

    def __post_init__(self) -> None:
        self.updates = DataLoader(self._updates)
        self.affected = DataLoader(self._affected)

    async def _resolve(self, ids: list[str]) -> dict[str, Component]:
        if not ids:
            return {}
        found = await self.component.load_many(list(dict.fromkeys(ids)))
        return {c.id: c for c in found if c is not None}

    async def _updates(self, event_ids: list[str]) -> list[list[tuple[EventUpdate, Impacts]]]:
        updates = await EventUpdate.filter(event_id__in=event_ids).order_by(
            "at", "created_at", "id")
        impacts = await UpdateImpact.filter(update_id__in=[u.id for u in updates])
        components = await self._resolve([i.component_id for i in impacts])
        by_update: dict[str, Impacts] = defaultdict(list)
        for row in impacts:
            if row.component_id in components:
                by_update[row.update_id].append((components[row.component_id],
                                                 ComponentStatus(row.impact)))
        by_event: dict[str, list[tuple[EventUpdate, Impacts]]] = defaultdict(list)
        for update in updates:
            items = sorted(by_update[update.id], key=lambda p: (p[0].position, p[0].name))
            by_event[update.event_id].append((update, items))
        return [by_event[e] for e in event_ids]

    async def _affected(self, event_ids: list[str]) -> list[Impacts]:
        rows = await EventComponent.filter(event_id__in=event_ids).order_by("position")
        components = await self._resolve([r.component_id for r in rows])
        by_event: dict[str, Impacts] = defaultdict(list)
        for row in rows:
            if row.component_id in components:
                by_event[row.event_id].append((components[row.component_id],
                                               ComponentStatus(row.impact)))
        return [by_event[e] for e in event_ids]

