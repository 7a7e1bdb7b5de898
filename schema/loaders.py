"""Per-request data loaders (never module-global: they would cache across requests)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from models import Component, ComponentGroup, Event, RoleAssignment, StatusPage
from models.enums import ComponentStatus
from resolvers.availability import Reader
from resolvers.role import roles_of_users
from resolvers.status import statuses_at
from schema.event_loaders import EventLoaders


async def _components_by_page(page_ids: list[str]) -> list[list[Component]]:
    rows = await Component.filter(page_id__in=page_ids).order_by("position", "created_at")
    grouped: dict[str, list[Component]] = defaultdict(list)
    for row in rows:
        grouped[row.page_id].append(row)
    return [grouped[pid] for pid in page_ids]


async def _groups_by_page(page_ids: list[str]) -> list[list[ComponentGroup]]:
    rows = await ComponentGroup.filter(page_id__in=page_ids).order_by("position", "created_at")
    grouped: dict[str, list[ComponentGroup]] = defaultdict(list)
    for row in rows:
        grouped[row.page_id].append(row)
    return [grouped[pid] for pid in page_ids]


async def _statuses_by_page(page_ids: list[str]) -> list[dict[str, ComponentStatus]]:
    found = await statuses_at(page_ids)
    by_page: dict[str, dict[str, ComponentStatus]] = {pid: {} for pid in page_ids}
    components = await Component.filter(page_id__in=page_ids).values_list("id", "page_id")
    for cid, pid in components:
        if cid in found:
            by_page[pid][cid] = found[cid]
    return [by_page[pid] for pid in page_ids]


async def _pages_by_id(page_ids: list[str]) -> list[StatusPage | None]:
    rows = {p.id: p for p in await StatusPage.filter(id__in=page_ids)}
    return [rows.get(pid) for pid in page_ids]


async def _groups_by_id(ids: list[str]) -> list[ComponentGroup | None]:
    rows = {g.id: g for g in await ComponentGroup.filter(id__in=ids)}
    return [rows.get(i) for i in ids]


async def _events_by_id(ids: list[str]) -> list[Event | None]:
    rows = {e.id: e for e in await Event.filter(id__in=ids)}
    return [rows.get(i) for i in ids]


@dataclass
class AvailabilityReads:
    """What the availability fields of one request share (schema.availability)."""

    # One `now` and each page's ledger loaded once (created on first use; renewed when
    # older than a request could last, see schema.availability.reader_of).
    reader: Reader | None = None
    # The events intervals and daily bars name, one query per batch.
    events: DataLoader[str, Event | None] = field(
        default_factory=lambda: DataLoader(_events_by_id)
    )
    # The request's page and components by id: figures kept across requests hold older ones.
    pages: dict[str, StatusPage] = field(default_factory=dict)
    components: dict[str, Component] = field(default_factory=dict)


@dataclass
class Loaders:
    components_by_page: DataLoader[str, list[Component]] = field(
        default_factory=lambda: DataLoader(_components_by_page)
    )
    groups_by_page: DataLoader[str, list[ComponentGroup]] = field(
        default_factory=lambda: DataLoader(_groups_by_page)
    )
    # component id -> status for every non-operational component of the page, now
    statuses_by_page: DataLoader[str, dict[str, ComponentStatus]] = field(
        default_factory=lambda: DataLoader(_statuses_by_page)
    )
    page_by_id: DataLoader[str, StatusPage | None] = field(
        default_factory=lambda: DataLoader(_pages_by_id)
    )
    group_by_id: DataLoader[str, ComponentGroup | None] = field(
        default_factory=lambda: DataLoader(_groups_by_id)
    )
    # user id -> its role assignments, oldest first (the users list: one query, not one a user)
    roles_by_user: DataLoader[str, list[RoleAssignment]] = field(
        default_factory=lambda: DataLoader(roles_of_users)
    )
    # An event's updates and affected components (schema.event, schema.template).
    events: EventLoaders = field(default_factory=EventLoaders)
    # The availability fields' reader, events and current rows (schema.availability).
    availability: AvailabilityReads = field(default_factory=AvailabilityReads)
