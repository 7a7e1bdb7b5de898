"""The demo page loaded by `heliograph demo` and `make run` (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from models import Component, ComponentGroup, StatusPage, User
from models.base import utcnow
from models.enums import Visibility
from resolvers import component
from resolvers import page as pages
from resolvers.account import create_user
from resolvers.auth import Actor
from resolvers.history import demo_history

DEMO_SLUG = "demo"
DEMO_ADMIN = "admin@example.com"
DEMO_LAYOUT = {
    "Core": ["API", "Web app", "Authentication"],
    "Data": ["EU database", "US database", "Object storage"],
}
UNGROUPED = ["Status notifications"]


async def load_demo(admin_password: str = "heliograph-demo") -> StatusPage:
    """Create the demo page (two groups, seven components) unless it exists; return it."""
    page = await StatusPage.filter(slug=DEMO_SLUG).first()
    if page is not None:
        return page
    admin = await User.filter(email=DEMO_ADMIN).first()
    if admin is None:
        admin = await create_user(email=DEMO_ADMIN, password=admin_password, is_admin=True)
    actor = Actor(user=admin, via="cli")
    page = await pages.create_page(
        actor=actor, slug=DEMO_SLUG, name="Heliograph Demo",
        description="A demonstration page: live status, history and availability.",
        visibility=Visibility.PUBLIC, time_zone="Europe/Berlin",
    )
    since = utcnow() - timedelta(days=120)
    for group_name, names in DEMO_LAYOUT.items():
        group = await component.create_group(actor=actor, page_id=page.id, name=group_name)
        for name in names:
            await component.create_component(actor=actor, page_id=page.id, name=name,
                                             group_id=group.id, since=since)
    for name in UNGROUPED:
        await component.create_component(actor=actor, page_id=page.id, name=name, since=since)
    components = await Component.filter(page_id=page.id)
    groups = await ComponentGroup.filter(page_id=page.id)
    await demo_history(actor=actor, page=page, components=components, groups=groups)
    return await StatusPage.get(id=page.id)
