"""Status pages: read what an actor may see; create, edit, reorder and delete."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Final

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import StatusPage
from models.base import utcnow
from models.db import serialise
from models.enums import Role, Visibility
from resolvers import audit, domains, validate
from resolvers.auth import Actor, can_view, require_role
from resolvers.errors import LIMIT_REACHED, DomainError, conflict, invalid, not_found
from resolvers.sequence import PageChange, announce, bump
from settings import get_settings


class Keep(enum.Enum):
    """The type of KEEP: "leave this field as it is" in update operations (an argument typed
    `str | Keep = KEEP` is either a new value or KEEP; `is not KEEP` narrows it)."""

    KEEP = "KEEP"


KEEP: Final = Keep.KEEP


async def visible_page(actor: Actor, *, slug: str | None = None,
                       page_id: str | None = None) -> StatusPage | None:
    """The page if it exists and the actor may see it; otherwise None (no hint either way)."""
    query = StatusPage.filter(slug=slug) if slug is not None else StatusPage.filter(id=page_id)
    page = await query.first()
    if page is None or not can_view(actor, page):
        return None
    return page


async def visible_pages(actor: Actor) -> list[StatusPage]:
    """Every page the actor may see, by position."""
    query = StatusPage.all()
    if not actor.authenticated:
        query = query.filter(visibility=Visibility.PUBLIC)
    return await query.order_by("position", "created_at")


async def default_page(actor: Actor) -> StatusPage | None:
    """DEFAULT_PAGE when set (and visible), else the first public page by position."""
    slug = get_settings().default_page
    if slug:
        return await visible_page(actor, slug=slug)
    return await StatusPage.filter(visibility=Visibility.PUBLIC).order_by(
        "position", "created_at"
    ).first()


async def managed_page(actor: Actor, page_id: str, role: Role,
                       field: str = "pageId") -> StatusPage:
    """Load a page for a management action: authorise first, then NOT_FOUND if absent."""
    require_role(actor, role, page_id)
    page = await StatusPage.filter(id=page_id).first()
    if page is None:
        raise not_found("Page", field)
    return page


async def _check_limit(conn: BaseDBAsyncClient, visibility: Visibility,
                       exclude_id: str | None = None) -> None:
    """Refuse one page too many; called in the transaction that then writes the page, which
    holds the page-limit lock until it ends (two requests cannot both pass the count)."""
    await serialise(conn, "page-limit")
    settings = get_settings()
    limit = (
        settings.max_public_pages
        if visibility == Visibility.PUBLIC
        else settings.max_internal_pages
    )
    query = StatusPage.filter(visibility=visibility).using_db(conn)
    if exclude_id:
        query = query.exclude(id=exclude_id)
    if await query.count() >= limit:
        raise DomainError(
            LIMIT_REACHED,
            f"This installation allows at most {limit} {visibility.value.lower()} pages",
            "visibility",
        )


async def create_page(
    *,
    actor: Actor,
    slug: str,
    name: str,
    visibility: Visibility = Visibility.PUBLIC,
    time_zone: str = "UTC",
    description: str | None = None,
    position: int | None = None,
    domains_: list[str] | None = None,
    logo_url: str = "",
    accent_color: str = "",
    language: str = "en",
    allow_visitor_language: bool = True,
) -> StatusPage:
    """Create a page (page management for all pages)."""
    require_role(actor, Role.PAGE_MANAGEMENT, None)
    slug = validate.slug(slug)
    name = validate.name(name)
    time_zone = validate.time_zone(time_zone)
    language = validate.language(language)
    description = validate.description(description)
    position = validate.position(position)
    hosts = domains.hosts(domains_ or [])
    logo_url = domains.logo_url(logo_url)
    accent_color = domains.accent_color(accent_color)
    async with in_transaction() as conn:
        await _check_limit(conn, visibility)
        if await StatusPage.filter(slug=slug).using_db(conn).exists():
            raise conflict(f"The slug {slug!r} is already taken", "slug")
        await domains.check_free(hosts, None)
        if position is None:
            position = await StatusPage.all().using_db(conn).count()
        try:
            page = await StatusPage.create(
                slug=slug, name=name, visibility=visibility, time_zone=time_zone,
                description=description, position=position, sequence=1, language=language,
                allow_visitor_language=allow_visitor_language, using_db=conn,
                logo_url=logo_url, accent_color=accent_color,
            )
            await domains.save(page.id, hosts, conn)
        except IntegrityError:
            raise conflict(f"The slug {slug!r} or a domain is already taken", "slug") from None
        await audit.record(actor, "page.create", target_type="page", target_id=page.id,
                           page_id=page.id, detail={"slug": slug}, conn=conn)
    domains.forget()
    await announce(PageChange(page.id, page.sequence, "PAGE_EDITED"))
    return page


# The fields a page edit may change, each with its check, in the order they are checked (the
# first refusal is the one reported).
_EDITABLE: dict[str, Callable[[Any], Any]] = {
    "logo_url": lambda v: domains.logo_url(v or ""),
    "accent_color": lambda v: domains.accent_color(v or ""),
    "slug": validate.slug,
    "name": validate.name,
    "time_zone": validate.time_zone,
    "description": validate.description,
    "language": validate.language,
    "allow_visitor_language": bool,
}


async def update_page(
    *,
    actor: Actor,
    page_id: str,
    slug: str | Keep = KEEP,
    name: str | Keep = KEEP,
    visibility: Visibility | Keep = KEEP,
    time_zone: str | Keep = KEEP,
    description: str | Keep | None = KEEP,
    domains_: list[str] | Keep | None = KEEP,
    logo_url: str | Keep | None = KEEP,
    accent_color: str | Keep | None = KEEP,
    language: str | Keep = KEEP,
    allow_visitor_language: bool | Keep = KEEP,
) -> StatusPage:
    """Edit a page's fields (page management for this page)."""
    page = await managed_page(actor, page_id, Role.PAGE_MANAGEMENT, "id")
    hosts = None if domains_ is KEEP else domains.hosts(domains_ or [])
    given = {"slug": slug, "name": name, "time_zone": time_zone, "description": description,
             "logo_url": logo_url, "accent_color": accent_color, "language": language,
             "allow_visitor_language": allow_visitor_language}
    changes = {key: check(given[key]) for key, check in _EDITABLE.items()
               if given[key] is not KEEP}
    if visibility is not KEEP and visibility is not None:
        changes["visibility"] = visibility
    async with in_transaction() as conn:
        await _check_edit(conn, page, changes, hosts)
        for key, value in changes.items():
            setattr(page, key, value)
        try:
            await page.save(using_db=conn)
            if hosts is not None:
                await domains.save(page.id, hosts, conn)
        except IntegrityError:
            raise conflict("The slug or a domain is already taken", "slug") from None
        sequence = await bump(page.id, conn)
        detail = {k: str(v) for k, v in changes.items()}
        if hosts is not None:
            detail["domains"] = ", ".join(hosts)
        await audit.record(actor, "page.update", target_type="page", target_id=page.id,
                           page_id=page.id, detail=detail, conn=conn)
    domains.forget()
    page.sequence = sequence
    await announce(PageChange(page.id, sequence, "PAGE_EDITED"))
    return page


async def _check_edit(conn: BaseDBAsyncClient, page: StatusPage, changes: dict[str, Any],
                      hosts: list[str] | None) -> None:
    """Refuse an edit over the plan's page limit, or to a slug or domain another page has."""
    if "visibility" in changes and changes["visibility"] != page.visibility:
        await _check_limit(conn, changes["visibility"], exclude_id=page.id)
    if "slug" in changes and changes["slug"] != page.slug:
        if await StatusPage.filter(slug=changes["slug"]).using_db(conn).exists():
            raise conflict(f"The slug {changes['slug']!r} is already taken", "slug")
    if hosts is not None:
        await domains.check_free(hosts, page.id)


async def delete_page(*, actor: Actor, page_id: str) -> str:
    """Delete a page with everything on it (page management for all pages)."""
    require_role(actor, Role.PAGE_MANAGEMENT, None)
    page = await StatusPage.filter(id=page_id).first()
    if page is None:
        raise not_found("Page", "id")
    async with in_transaction() as conn:
        await audit.record(actor, "page.delete", target_type="page", target_id=page.id,
                           page_id=page.id, detail={"slug": page.slug, "name": page.name},
                           conn=conn)
        await StatusPage.filter(id=page.id).using_db(conn).delete()
    domains.forget()
    await announce(PageChange(page.id, page.sequence + 1, "PAGE_EDITED"))
    return page.id


async def reorder_pages(*, actor: Actor, page_ids: list[str]) -> list[StatusPage]:
    """Set page positions to the given order; every page must be named once."""
    require_role(actor, Role.PAGE_MANAGEMENT, None)
    async with in_transaction() as conn:
        pages = {p.id: p for p in await StatusPage.all().using_db(conn)}
        if len(set(page_ids)) != len(page_ids) or set(page_ids) != set(pages):
            raise invalid("List every page exactly once", "pageIds")
        for index, pid in enumerate(page_ids):
            await StatusPage.filter(id=pid).using_db(conn).update(
                position=index, updated_at=utcnow()
            )
            pages[pid].position = index
        await audit.record(actor, "page.reorder", target_type="page", target_id="*",
                           detail={"order": page_ids}, conn=conn)
    return [pages[pid] for pid in page_ids]
