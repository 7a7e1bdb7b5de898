"""The status page in a real browser: rendering, live changes, reconnection, accessibility."""

from __future__ import annotations

import pytest

from models import Event
from resolvers.demo import DEMO_LAYOUT, load_demo
from tests.helpers.browser import ARTIFACTS, axe_violations, chromium
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]


async def test_the_demo_page_renders_groups_statuses_bars_and_availability() -> None:
    await load_demo()
    ARTIFACTS.mkdir(exist_ok=True)
    with running_server() as base:
        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{base}/p/demo")
            banner = page.locator("#banner")
            assert await banner.inner_text() == "All systems operational"
            for group in DEMO_LAYOUT:
                row = page.locator(".group summary", has_text=group)
                assert await row.locator(".badge .word").inner_text() == "Operational"
            api = page.locator(".component", has_text="API").first
            assert await api.locator(".badge .word").inner_text() == "Operational"
            assert await api.locator(".bars .bar").count() == 90
            assert "availability over the last 90 days" in await api.inner_text()
            # the keyboard reaches today's bar, and arrows move to earlier days; focus shows
            # the day's date, availability and events
            await api.locator(".bars .bar").last.focus()
            tip = api.locator(".bars .bar.today .tip")
            assert await tip.is_visible()
            assert "available" in await tip.inner_text()
            await page.keyboard.press("ArrowLeft")
            yesterday = api.locator(".bars .bar").nth(88)
            assert await yesterday.evaluate("b => b === document.activeElement")
            assert await yesterday.locator(".tip").is_visible()
            assert await api.locator(".bars .bar[tabindex='0']").count() == 1
            await page.screenshot(path=str(ARTIFACTS / "status-desktop.png"), full_page=True)
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.goto(f"{base}/p/demo")
            assert await page.locator("#banner").is_visible()
            # the page fits the phone's width
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390
            await page.screenshot(path=str(ARTIFACTS / "status-phone.png"), full_page=True)


async def test_the_status_page_has_no_serious_accessibility_violations() -> None:
    demo = await load_demo()
    event = await Event.filter(page_id=demo.id).first()
    assert event is not None
    with running_server() as base:
        async with chromium() as browser:
            page = await browser.new_page()
            for path in ("/p/demo", "/p/demo/history", f"/p/demo/events/{event.id}",
                         "/signin", "/p/unknown"):
                await page.goto(base + path)
                violations = await axe_violations(page)
                assert violations == [], [(v["id"], v["help"]) for v in violations]


async def test_without_javascript_the_page_renders_fully_and_the_form_still_works() -> None:
    await load_demo()
    with running_server() as base:
        async with chromium() as browser:
            context = await browser.new_context(java_script_enabled=False)
            page = await context.new_page()
            await page.goto(f"{base}/p/demo")
            assert await page.locator("#banner").inner_text() == "All systems operational"
            assert await page.locator(".bars .bar").count() >= 90
            assert await page.locator("#live").is_hidden()  # never claims to be live
            form = page.locator("#subscribe-form")
            await form.get_by_label("Email address").fill("nojs@example.com")
            await form.get_by_role("button", name="Subscribe").click()
            await page.wait_for_load_state()
            assert await page.locator("#subscribe-form .form-message").inner_text() != ""
            from models import Subscriber

            assert await Subscriber.filter(email="nojs@example.com").count() == 1


async def test_a_bars_tooltip_reads_the_days_events_on_demand() -> None:
    from models import Component, User
    from models.enums import ComponentStatus
    from resolvers import event
    from resolvers.auth import load_actor
    from resolvers.demo import DEMO_ADMIN

    demo = await load_demo()
    actor = await load_actor(await User.get(email=DEMO_ADMIN), via="cli")
    api_id = (await Component.get(page_id=demo.id, name="API")).id
    await event.create_incident(actor=actor, page_id=demo.id, title="Slow API answers",
                                message="Investigating.", notify=False,
                                components=[(api_id, ComponentStatus.DEGRADED)])
    with running_server() as base:
        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{base}/p/demo")
            api = page.locator(f"#component-{api_id}")
            today = api.locator(".bars .bar.today")
            assert await today.get_attribute("data-status") == "DEGRADED"
            await today.focus()
            tip = today.locator(".tip")
            assert "Degraded performance" in await tip.inner_text()
            # the events are not in the page: the tooltip asks for them when it opens
            await tip.locator(".tip-event").wait_for(timeout=10_000)
            assert await tip.locator(".tip-event").inner_text() == "Incident: Slow API answers"
