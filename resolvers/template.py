"""Templates: per page and kind, they prefill title, message, status and component impacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Component, Template
from models.base import utcnow
from models.enums import (
    INCIDENT_IMPACTS,
    MAINTENANCE_IMPACTS,
    ComponentStatus,
    EventKind,
    EventStatus,
    Role,
)
from resolvers import audit, validate
from resolvers.auth import Actor, require_authenticated, require_role
from resolvers.errors import conflict, invalid, not_found
from resolvers.page import KEEP, Keep, managed_page
from resolvers.timeline import check_status

Impact = tuple[str, ComponentStatus]


@dataclass(frozen=True)
class TemplateValues:
    """What a template contributes to a publication (empty when no template is used)."""

    title: str = ""
    message: str = ""
    status: EventStatus | None = None
    impacts: dict[str, ComponentStatus] = field(default_factory=dict)


async def template_values(page_id: str, kind: EventKind,
                          template_id: str | None) -> TemplateValues:
    """The template's values for a publication on this page; components since deleted are
    dropped."""
    if template_id is None:
        return TemplateValues()
    template = await Template.filter(id=template_id, page_id=page_id).first()
    if template is None:
        raise not_found("Template", "templateId")
    if template.kind != kind:
        raise invalid(f"This is a {template.kind.value.lower()} template", "templateId")
    wanted = {str(i["componentId"]): ComponentStatus(i["impact"]) for i in template.impacts}
    existing = set(await Component.filter(id__in=list(wanted), page_id=page_id).values_list(
        "id", flat=True))
    return TemplateValues(
        title=template.title, message=template.message,
        status=EventStatus(template.status) if template.status else None,
        impacts={cid: impact for cid, impact in wanted.items() if cid in existing},
    )


async def _check(page_id: str, kind: EventKind, status: EventStatus | None,
                 impacts: Sequence[Impact] | None) -> list[dict[str, str]]:

    if status is not None:
        check_status(kind, status)
        if status.final:
            raise invalid("A template cannot publish a final status", "status")
    allowed = INCIDENT_IMPACTS if kind == EventKind.INCIDENT else MAINTENANCE_IMPACTS
    seen: dict[str, ComponentStatus] = {}
    for cid, impact in impacts or ():
        if cid in seen:
            raise invalid("Each component may appear once", "components")
        if impact not in allowed:
            raise invalid(f"{impact.value} is not an impact of {kind.value.lower()}s",
                          "components")
        seen[cid] = impact
    found = await Component.filter(id__in=list(seen), page_id=page_id).count()
    if found != len(seen):
        raise invalid("Every component must belong to the template's page", "components")
    return [{"componentId": cid, "impact": impact.value} for cid, impact in seen.items()]


async def list_templates(*, actor: Actor, page_id: str,
                         kind: EventKind | None = None) -> list[Template]:
    """A page's templates (event management for the page), by name."""
    page = await managed_page(actor, page_id, Role.EVENT_MANAGEMENT)
    query = Template.filter(page_id=page.id)
    if kind is not None:
        query = query.filter(kind=kind)
    return await query.order_by("kind", "name")


async def create_template(*, actor: Actor, page_id: str, kind: EventKind, name: str,
                          title: str | None = None, message: str | None = None,
                          status: EventStatus | None = None,
                          components: Sequence[Impact] | None = None) -> Template:
    """Add a template to a page."""
    page = await managed_page(actor, page_id, Role.EVENT_MANAGEMENT)
    name = validate.name(name)
    title = validate.text(title, "title", maximum=validate.TITLE_MAX, required=False)
    message = validate.text(message, "message", maximum=validate.MESSAGE_MAX, required=False)
    impacts = await _check(page.id, kind, status, components)
    async with in_transaction() as conn:
        if await Template.filter(page_id=page.id, kind=kind, name=name).using_db(conn).exists():
            raise conflict(f"A {kind.value.lower()} template named {name!r} exists", "name")
        try:
            template = await Template.create(page_id=page.id, kind=kind, name=name, title=title,
                                             message=message, status=status, impacts=impacts,
                                             using_db=conn)
        except IntegrityError:
            raise conflict(f"A template named {name!r} exists", "name") from None
        await audit.record(actor, "template.create", target_type="template",
                           target_id=template.id, page_id=page.id, detail={"name": name},
                           conn=conn)
    return template


async def _managed_template(actor: Actor, template_id: str) -> Template:
    template = await Template.filter(id=template_id).first()
    if template is None:
        require_authenticated(actor)
        raise not_found("Template", "id")
    require_role(actor, Role.EVENT_MANAGEMENT, template.page_id)
    return template


async def update_template(*, actor: Actor, template_id: str, name: str | Keep = KEEP,
                          title: str | Keep | None = KEEP, message: str | Keep | None = KEEP,
                          status: EventStatus | Keep | None = KEEP,
                          components: Sequence[Impact] | Keep | None = KEEP) -> Template:
    """Edit a template's fields."""
    template = await _managed_template(actor, template_id)
    kind = EventKind(template.kind)
    changes: dict[str, Any] = {}
    if name is not KEEP:
        changes["name"] = validate.name(name)
    if title is not KEEP:
        changes["title"] = validate.text(title, "title", maximum=validate.TITLE_MAX,
                                         required=False)
    if message is not KEEP:
        changes["message"] = validate.text(message, "message", maximum=validate.MESSAGE_MAX,
                                           required=False)
    if status is not KEEP:
        await _check(template.page_id, kind, status, None)
        changes["status"] = status
    if components is not KEEP:
        changes["impacts"] = await _check(template.page_id, kind, None, components)
    async with in_transaction() as conn:
        new_name = changes.get("name", template.name)
        clash = Template.filter(page_id=template.page_id, kind=kind, name=new_name).exclude(
            id=template.id)
        if await clash.using_db(conn).exists():
            raise conflict(f"A {kind.value.lower()} template named {new_name!r} exists",
                           "name")
        for key, value in changes.items():
            setattr(template, key, value)
        template.updated_at = utcnow()
        await template.save(using_db=conn)
        await audit.record(actor, "template.update", target_type="template",
                           target_id=template.id, page_id=template.page_id,
                           detail={"name": template.name}, conn=conn)
    return template


async def delete_template(*, actor: Actor, template_id: str) -> str:
    """Delete a template (published events keep their text)."""
    template = await _managed_template(actor, template_id)
    async with in_transaction() as conn:
        await Template.filter(id=template.id).using_db(conn).delete()
        await audit.record(actor, "template.delete", target_type="template",
                           target_id=template.id, page_id=template.page_id,
                           detail={"name": template.name}, conn=conn)
    return template.id
