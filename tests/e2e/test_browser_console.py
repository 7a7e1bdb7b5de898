"""A manager runs an incident from the console in a real browser; the public page follows."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from models import Component, Event, User
from models.enums import ComponentStatus, EventKind, EventStatus, Role
from resolvers.account import create_user
from resolvers.auth import load_actor
from resolvers.demo import DEMO_ADMIN, load_demo
from resolvers.role import assign_role
from resolvers.template import create_template
from tests.helpers.browser import ARTIFACTS, LIVE, axe_violations, chromium
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]

MANAGER = "oncall@example.com"
PASSWORD = "a long enough password"


async def event_manager_and_template() -> tuple[Any, list[Component]]:
    demo = await load_demo()
    admin = await load_actor(await User.get(email=DEMO_ADMIN), via="test")
    manager = await create_user(email=MANAGER, password=PASSWORD)
    await assign_role(actor=admin, user_id=manager.id, role=Role.EVENT_MANAGEMENT,
                      page_id=demo.id)
    api = await Component.get(page_id=demo.id, name="API")
    auth = await Component.get(page_id=demo.id, name="Authentication")
    await create_template(actor=admin, page_id=demo.id, kind=EventKind.INCIDENT,
                          name="Login trouble", title="Sign-in is failing",
                          message="We are looking into failed sign-ins.",
                          components=[(api.id, ComponentStatus.DEGRADED),
                                      (auth.id, ComponentStatus.FULL_OUTAGE)])
    return demo, [api, auth]


async def sign_in(page: Any, base: str, next_path: str) -> None:
    await page.goto(f"{base}/signin?next={next_path}")
    await page.get_by_label("Email").fill(MANAGER)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base}{next_path}")


def badge(page: Any, name: str) -> Any:
    row = page.locator(".component").filter(has=page.locator(".name", has_text=name)).first
    return row.locator(".badge .word")


async def test_a_manager_publishes_updates_and_resolves_an_incident_in_the_console() -> None:
    demo, (api, auth) = await event_manager_and_template()
    with running_server() as base:
        async with chromium() as browser:
            public = await browser.new_page()
            await public.goto(f"{base}/p/demo")
            await expect(public.locator("#live")).to_have_text("Live", timeout=LIVE)

            console = await (await browser.new_context()).new_page()
            await sign_in(console, base, "/manage/p/demo/new/incident")
            await console.get_by_label("Template").select_option(label="Login trouble")
            await expect(console.get_by_label("Title")).to_have_value("Sign-in is failing")
            await expect(console.locator(f'select[name="impact:{api.id}"]')).to_have_value(
                "DEGRADED")
            await expect(console.locator(f'select[name="impact:{auth.id}"]')).to_have_value(
                "FULL_OUTAGE")
            await console.get_by_label("Notify subscribers").uncheck()
            await console.get_by_role("button", name="Publish incident").click()
            await console.wait_for_url(f"{base}/manage/events/*")
            event = await Event.get(page_id=demo.id, title="Sign-in is failing")
            update = await event.updates.all()  # type: ignore[attr-defined]
            assert [u.notify for u in update] == [False]

            await expect(public.locator("#banner")).to_have_text("Major outage", timeout=LIVE)
            await expect(badge(public, "API")).to_have_text("Degraded performance")
            await expect(badge(public, "Authentication")).to_have_text("Major outage")
            await expect(public.locator("#events-live")).to_contain_text("Sign-in is failing")

            # an update that leaves the impacts as they are
            form = console.locator("#update-form")
            await form.get_by_label("Status", exact=True).select_option("IDENTIFIED")
            await form.get_by_label("Message (Markdown)").fill("A bad certificate: *rotating*.")
            await form.get_by_role("button", name="Post update").click()
            await expect(console.locator("#event-status")).to_have_text("Identified",
                                                                        timeout=LIVE)
            await expect(public.locator("#events-live .incidents .event-status")).to_have_text(
                "Identified", timeout=LIVE)
            shown = public.locator("#events-live .incidents .message em")
            await expect(shown).to_have_text("rotating")

            # an empty message is refused, and the refusal is shown next to the message
            form = console.locator("#update-form")
            await form.get_by_label("Status", exact=True).select_option("RESOLVED")
            await form.get_by_label("Message (Markdown)").fill("")
            await form.get_by_role("button", name="Post update").click()
            await expect(form.locator('[data-error-for="message"]')).not_to_be_empty(
                timeout=LIVE)
            assert (await Event.get(id=event.id)).status == EventStatus.IDENTIFIED

            await form.get_by_label("Message (Markdown)").fill("Certificates rotated.")
            await form.get_by_role("button", name="Post update").click()
            await expect(console.locator("#event-status")).to_have_text("Resolved",
                                                                        timeout=LIVE)
            await expect(public.locator("#banner")).to_have_text("All systems operational",
                                                                 timeout=LIVE)
            await expect(badge(public, "API")).to_have_text("Operational")
            await expect(badge(public, "Authentication")).to_have_text("Operational")
            await expect(public.locator("#recent-live")).to_contain_text("Sign-in is failing")
            ARTIFACTS.mkdir(exist_ok=True)
            await console.screenshot(path=str(ARTIFACTS / "console-event.png"), full_page=True)
            violations = await axe_violations(console)
            assert violations == [], [(v["id"], v["help"]) for v in violations]
