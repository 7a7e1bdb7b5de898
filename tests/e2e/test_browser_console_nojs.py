"""The console with JavaScript off: an operator signs in, publishes an incident and posts an
update through plain HTML forms; the public page shows it."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from models import Component, Event, EventUpdate
from models.enums import EventStatus
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import LIVE, chromium
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]


async def test_an_operator_runs_an_incident_with_javascript_off() -> None:
    demo = await load_demo()
    api = await Component.get(page_id=demo.id, name="API")
    with running_server() as base:
        async with chromium() as browser:
            context = await browser.new_context(java_script_enabled=False)
            page = await context.new_page()
            await page.goto(f"{base}/signin?next=/manage/p/demo/new/incident")
            await page.get_by_label("Email").fill(DEMO_ADMIN)
            await page.get_by_label("Password").fill("heliograph-demo")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/manage/p/demo/new/incident")
            assert "password" not in page.url and "heliograph-demo" not in page.url

            # a refusal comes back as a visible message, nothing published
            await page.get_by_label("Title").fill("   ")
            await page.get_by_role("button", name="Publish incident").click()
            await page.wait_for_url(f"{base}/manage/p/demo/new/incident")
            assert await page.locator("#console-said[role=alert]").count() == 1
            assert await Event.filter(page_id=demo.id, status=EventStatus.INVESTIGATING
                                      ).count() == 0

            await page.get_by_label("Title").fill("Payments are failing")
            await page.get_by_label("Message (Markdown)").fill("We are looking into it.")
            await page.locator(f'select[name="impact:{api.id}"]').select_option(
                "PARTIAL_OUTAGE")
            await page.get_by_label("Notify subscribers").uncheck()
            await page.get_by_role("button", name="Publish incident").click()
            await page.wait_for_url(f"{base}/manage/events/*", timeout=LIVE)
            await expect(page.locator("#console-said")).to_have_text("Saved.")
            event = await Event.get(page_id=demo.id, title="Payments are failing")
            assert page.url == f"{base}/manage/events/{event.id}"

            await page.get_by_label("Status", exact=True).select_option(label="Monitoring")
            await page.get_by_label("Message (Markdown)").fill("A fix is deployed.")
            await page.get_by_label("Notify subscribers").uncheck()
            await page.get_by_role("button", name="Post update").click()
            await page.wait_for_url(f"{base}/manage/events/{event.id}", timeout=LIVE)
            await expect(page.locator("#console-said")).to_have_text("Saved.")
            await expect(page.locator(".timeline")).to_contain_text("A fix is deployed.")
            updates = await EventUpdate.filter(event_id=event.id).order_by("at")
            assert [(u.status, u.notify) for u in updates] == [
                (EventStatus.INVESTIGATING, False), (EventStatus.MONITORING, False)]

            public = await context.new_page()
            await public.goto(f"{base}/p/demo")
            await expect(public.locator("body")).to_contain_text("Payments are failing")
            row = public.locator(".component").filter(
                has=public.locator(".name", has_text="API")).first
            await expect(row.locator(".badge .word")).to_have_text("Partial outage")
