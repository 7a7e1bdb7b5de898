"""Components and component groups: create, edit, reorder, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import Component, ComponentGroup, ImpactSpan, StatusPage
from models.base import utcnow
from models.enums import Role
from resolvers import audit, validate
from resolvers.auth import Actor, require_role
from resolvers.errors import BEFORE_SINCE, DomainError, invalid, not_found
from resolvers.page import KEEP, Keep, managed_page
from resolvers.sequence import PageChange, announce, bump


async def _group_on_page(group_id: str, page_id: str, conn: BaseDBAsyncClient) -> ComponentGroup:
    group = await ComponentGroup.filter(id=group_id).using_db(conn).first()
    if group is None:
        raise not_found("Group", "groupId")
    if group.page_id != page_id:
        raise invalid("The group belongs to another page", "groupId")
    return group


async def _changed(actor: Actor, page_id: str, action: str, target_type: str, target_id: str,
                   detail: dict[str, Any], conn: BaseDBAsyncClient) -> int:
    await audit.record(actor, action, target_type=target_type, target_id=target_id,
                       page_id=page_id, detail=detail, conn=conn)
    return await bump(page_id, conn)


# ---- groups -------------------------------------------------------------------------------


async def create_group(*, actor: Actor, page_id: str, name: str, position: int | None = None,
                       description: str | None = None) -> ComponentGroup:
    """Add a component group to a page."""
    page = await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    name = validate.name(name)
    description = validate.description(description)
    position = validate.position(position)
    async with in_transaction() as conn:
        if position is None:
            position = await ComponentGroup.filter(page_id=page.id).using_db(conn).count()
        group = await ComponentGroup.create(page_id=page.id, name=name, position=position,
                                            description=description, using_db=conn)
        seq = await _changed(actor, page.id, "group.create", "group", group.id,
                             {"name": name}, conn)
    await announce(PageChange(page.id, seq, "PAGE_EDITED"))
    return group


async def _managed_group(actor: Actor, group_id: str) -> ComponentGroup:
    group = await ComponentGroup.filter(id=group_id).first()
    if group is None:
        require_role(actor, Role.PAGE_MANAGEMENT, None)
        raise not_found("Group", "id")
    require_role(actor, Role.PAGE_MANAGEMENT, group.page_id)
    return group


async def update_group(*, actor: Actor, group_id: str, name: str | Keep = KEEP,
                       description: str | Keep | None = KEEP) -> ComponentGroup:
    """Rename a group or change its description."""
    group = await _managed_group(actor, group_id)
    if name is not KEEP:
        group.name = validate.name(name)
    if description is not KEEP:
        group.description = validate.description(description)
    async with in_transaction() as conn:
        await group.save(using_db=conn)
        seq = await _changed(actor, group.page_id, "group.update", "group", group.id,
                             {"name": group.name}, conn)
    await announce(PageChange(group.page_id, seq, "PAGE_EDITED"))
    return group


async def delete_group(*, actor: Actor, group_id: str) -> str:
    """Delete a group; its components stay on the page, ungrouped."""
    group = await _managed_group(actor, group_id)
    async with in_transaction() as conn:
        await Component.filter(group_id=group.id).using_db(conn).update(group_id=None)
        await ComponentGroup.filter(id=group.id).using_db(conn).delete()
        seq = await _changed(actor, group.page_id, "group.delete", "group", group.id,
                             {"name": group.name}, conn)
    await announce(PageChange(group.page_id, seq, "PAGE_EDITED"))
    return group.id


async def reorder_groups(*, actor: Actor, page_id: str, group_ids: list[str]) -> StatusPage:
    """Set the order of a page's groups; every group of the page must be named once."""
    page = await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    async with in_transaction() as conn:
        existing = set(
            await ComponentGroup.filter(page_id=page.id).using_db(conn).values_list(
                "id", flat=True
            )
        )
        if len(set(group_ids)) != len(group_ids) or set(group_ids) != existing:
            raise invalid("List every group of this page exactly once", "groupIds")
        for index, gid in enumerate(group_ids):
            await ComponentGroup.filter(id=gid).using_db(conn).update(position=index)
        seq = await _changed(actor, page.id, "group.reorder", "page", page.id,
                             {"order": group_ids}, conn)
    await announce(PageChange(page.id, seq, "PAGE_EDITED"))
    page.sequence = seq
    return page


# ---- components ---------------------------------------------------------------------------


def _since(value: datetime, field: str = "since") -> datetime:
    value = validate.aware(value, field)
    if value > utcnow():
        raise invalid("since cannot be in the future", field)
    return value


async def create_component(
    *,
    actor: Actor,
    page_id: str,
    name: str,
    group_id: str | None = None,
    description: str | None = None,
    position: int | None = None,
    since: datetime | None = None,
    showcase: bool = True,
    only_show_if_degraded: bool = False,
) -> Component:
    """Add a component to a page (optionally in one of its groups)."""
    page = await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    name = validate.name(name)
    description = validate.description(description)
    position = validate.position(position)
    since_value = _since(since) if since is not None else utcnow()
    async with in_transaction() as conn:
        if group_id is not None:
            await _group_on_page(group_id, page.id, conn)
        if position is None:
            position = await Component.filter(page_id=page.id, group_id=group_id).using_db(
                conn
            ).count()
        component = await Component.create(
            page_id=page.id, group_id=group_id, name=name, description=description,
            position=position, since=since_value, showcase=showcase,
            only_show_if_degraded=only_show_if_degraded, using_db=conn,
        )
        seq = await _changed(actor, page.id, "component.create", "component", component.id,
                             {"name": name}, conn)
    await announce(PageChange(page.id, seq, "PAGE_EDITED", component_ids=(component.id,)))
    return component


async def _managed_component(actor: Actor, component_id: str) -> Component:
    component = await Component.filter(id=component_id).first()
    if component is None:
        require_role(actor, Role.PAGE_MANAGEMENT, None)
        raise not_found("Component", "id")
    require_role(actor, Role.PAGE_MANAGEMENT, component.page_id)
    return component


async def update_component(
    *,
    actor: Actor,
    component_id: str,
    name: str | Keep = KEEP,
    description: str | Keep | None = KEEP,
    group_id: str | Keep | None = KEEP,
    since: datetime | Keep | None = KEEP,
    showcase: bool | Keep | None = KEEP,
    only_show_if_degraded: bool | Keep | None = KEEP,
) -> Component:
    """Edit a component; `group_id=None` ungroups it; `since` may move earlier, never past now
    nor after its first recorded impact."""
    component = await _managed_component(actor, component_id)
    if name is not KEEP:
        component.name = validate.name(name)
    if description is not KEEP:
        component.description = validate.description(description)
    if showcase is not KEEP and showcase is not None:
        component.showcase = showcase
    if only_show_if_degraded is not KEEP and only_show_if_degraded is not None:
        component.only_show_if_degraded = only_show_if_degraded
    async with in_transaction() as conn:
        if group_id is not KEEP:
            if group_id is not None:
                await _group_on_page(group_id, component.page_id, conn)
            component.group_id = group_id
        if since is not KEEP and since is not None:
            value = _since(since)
            first = await ImpactSpan.filter(component_id=component.id).using_db(conn).order_by(
                "start"
            ).first()
            if first is not None and first.start < value:
                page = await StatusPage.filter(id=component.page_id).using_db(conn).first()
                zone = page.time_zone if page is not None else "UTC"
                raise DomainError(
                    BEFORE_SINCE,
                    "since cannot move after the component's first recorded impact "
                    f"({validate.local_words(first.start, zone)})",
                    "since",
                )
            component.since = value
        component.updated_at = utcnow()
        await component.save(using_db=conn)
        seq = await _changed(actor, component.page_id, "component.update", "component",
                             component.id, {"name": component.name}, conn)
    await announce(PageChange(component.page_id, seq, "PAGE_EDITED",
                              component_ids=(component.id,)))
    return component


async def delete_component(*, actor: Actor, component_id: str) -> str:
    """Delete a component; it leaves the page, its events and the figures."""
    component = await _managed_component(actor, component_id)
    async with in_transaction() as conn:
        await Component.filter(id=component.id).using_db(conn).delete()
        seq = await _changed(actor, component.page_id, "component.delete", "component",
                             component.id, {"name": component.name}, conn)
    await announce(PageChange(component.page_id, seq, "PAGE_EDITED",
                              component_ids=(component.id,)))
    return component.id


async def reorder_components(*, actor: Actor, page_id: str, component_ids: list[str],
                             group_id: str | None = None) -> StatusPage:
    """Order the components of one group (or the ungrouped ones) of a page; every one of them
    must be named once, and none from another page or group."""
    page = await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    async with in_transaction() as conn:
        if group_id is not None:
            await _group_on_page(group_id, page.id, conn)
        named = await Component.filter(id__in=component_ids).using_db(conn)
        if any(c.page_id != page.id for c in named) or len(named) != len(set(component_ids)):
            raise invalid("Every component must exist on this page", "componentIds")
        existing = set(
            await Component.filter(page_id=page.id, group_id=group_id).using_db(conn)
            .values_list("id", flat=True)
        )
        if len(set(component_ids)) != len(component_ids) or set(component_ids) != existing:
            raise invalid("List every component of this group exactly once", "componentIds")
        for index, cid in enumerate(component_ids):
            await Component.filter(id=cid).using_db(conn).update(position=index)
        seq = await _changed(actor, page.id, "component.reorder", "page", page.id,
                             {"group": group_id, "order": component_ids}, conn)
    await announce(PageChange(page.id, seq, "PAGE_EDITED"))
    page.sequence = seq
    return page
