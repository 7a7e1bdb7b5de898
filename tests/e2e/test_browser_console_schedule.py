"""From the console: schedule a maintenance, and record a retrospective event with its timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from models import Event, EventUpdate
from models.enums import EventKind, EventStatus
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import LIVE, chromium
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]


def local(moment: datetime) -> str:
    """The value of a datetime-local input: the page's wall-clock time (Europe/Berlin), which
    is not the browser's zone (UTC here)."""
    return moment.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M")


async def test_maintenance_and_a_retrospective_event_are_published_from_the_console() -> None:
    demo = await load_demo()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with running_server() as base:
        async with chromium() as browser:
            context = await browser.new_context(timezone_id="UTC")
            page = await context.new_page()
            await page.goto(f"{base}/signin?next=/manage/p/demo/new/maintenance")
            await page.get_by_label("Email").fill(DEMO_ADMIN)
            await page.get_by_label("Password").fill("heliograph-demo")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/manage/p/demo/new/maintenance")

            start = now + timedelta(days=2)
            await page.get_by_label("Title").fill("Database upgrade")
            await page.get_by_label("Message (Markdown)").fill("Upgrading to the next major.")
            await page.get_by_label("Starts (Europe/Berlin time)").fill(local(start))
            await page.get_by_label("Ends (Europe/Berlin time)").fill(
                local(start + timedelta(hours=2)))
            await page.get_by_label("Data · EU database").check()
            await page.get_by_role("button", name="Schedule maintenance").click()
            await page.wait_for_url(f"{base}/manage/events/*", timeout=LIVE)
            planned = await Event.get(page_id=demo.id, title="Database upgrade")
            assert planned.kind == EventKind.MAINTENANCE
            assert planned.status == EventStatus.SCHEDULED
            assert planned.scheduled_start == start

            await page.goto(f"{base}/manage/p/demo/new/retrospective")
            began = now - timedelta(days=3)
            await page.get_by_label("Title").fill("Night-time packet loss")
            await page.get_by_label("Started (Europe/Berlin time)").fill(local(began))
            await page.get_by_label("Ended (Europe/Berlin time)").fill(
                local(began + timedelta(hours=1)))
            await page.get_by_label("Core · API").select_option("PARTIAL_OUTAGE")
            rows = page.locator(".retro-update")
            await rows.nth(0).locator("[data-part=at]").fill(local(began))
            await rows.nth(0).locator("[data-part=message]").fill("Packets dropped.")
            await page.get_by_role("button", name="Add an update").click()
            await rows.nth(1).locator("[data-part=at]").fill(local(began + timedelta(hours=1)))
            await rows.nth(1).locator("[data-part=status]").select_option("RESOLVED")
            await rows.nth(1).locator("[data-part=message]").fill("A router was replaced.")
            await page.get_by_role("button", name="Record event").click()
            await page.wait_for_url(f"{base}/manage/events/*", timeout=LIVE)
            past = await Event.get(page_id=demo.id, title="Night-time packet loss")
            assert past.retrospective and past.status == EventStatus.RESOLVED
            messages = await EventUpdate.filter(event_id=past.id).order_by("at")
            assert [u.message for u in messages] == ["Packets dropped.", "A router was replaced."]

            public = await browser.new_page()
            await public.goto(f"{base}/p/demo")
            await expect(public.locator("#events-live .maintenance")).to_contain_text(
                "Database upgrade")
            await expect(public.locator("#recent-live")).to_contain_text("Night-time packet loss")
