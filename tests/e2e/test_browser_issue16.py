"""Issue 16 in one browser session: the dark theme (system preference and the remembered
toggle) passes axe on the status page and in the console; an empty "chosen components"
subscription is refused; the widget follows the page live inside another site's frame; the
console presets an update to where the event is, gives focus back after a save, takes and
previews times in the page's zone (also for a component's "counted from"), keeps a typed title
when a template is applied and asks before revoking a token."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from models import ApiToken, Component, Event, Subscriber, User
from models.enums import EventStatus
from resolvers.account import issue_token
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import ARTIFACTS, LIVE, axe_violations, chromium, graphql
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]

DARK, LIGHT = "rgb(13, 17, 23)", "rgb(255, 255, 255)"
BACKGROUND = "() => getComputedStyle(document.documentElement).backgroundColor"
CREATE_INCIDENT = """mutation($input: CreateIncidentInput!) { createIncident(input: $input) {
  __typename ... on CreateIncidentPayload { event { id } } } }"""
POST_UPDATE = """mutation($input: PostEventUpdateInput!) { postEventUpdate(input: $input) {
  __typename } }"""
CREATE_TEMPLATE = """mutation($input: CreateTemplateInput!) { createTemplate(input: $input) {
  __typename } }"""


@contextmanager
def other_site(html: str) -> Iterator[str]:
    """Another origin serving one page (on loopback: Chromium keeps public sites from framing
    local addresses, so a routed fake site would not do)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(html.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def assert_no_violations(violations: list[dict[str, Any]]) -> None:
    assert violations == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                              for v in violations]


async def test_dark_theme_widget_subscribe_refusal_and_console_safeguards() -> None:
    demo = await load_demo()
    admin = await User.get(email=DEMO_ADMIN)
    token, _ = await issue_token(user=admin, name="tests")
    await issue_token(user=admin, name="keep me")
    api = await Component.get(page_id=demo.id, name="API")
    await Event.filter(page_id=demo.id).delete()  # the widget starts from "operational"
    with running_server() as base:
        tool = {"token": token}
        await graphql(base, CREATE_TEMPLATE, {"input": {
            "pageId": demo.id, "kind": "INCIDENT", "name": "Slow API", "title": "API is slow",
            "message": "We are looking into it."}}, **tool)
        async with chromium() as browser:
            context = await browser.new_context(color_scheme="dark", timezone_id="UTC")
            page = await context.new_page()

            # the system's dark preference, then the toggle, remembered across pages
            await page.goto(f"{base}/p/demo/widget")
            assert_no_violations(await axe_violations(page))
            await page.goto(f"{base}/p/demo")
            assert await page.evaluate(BACKGROUND) == DARK
            assert_no_violations(await axe_violations(page))
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "status-dark.png"), full_page=True)
            toggle = page.locator("#theme-toggle")
            await expect(toggle).to_have_attribute("aria-pressed", "true")
            await toggle.click()
            assert await page.evaluate(BACKGROUND) == LIGHT
            await page.reload()
            assert await page.evaluate(BACKGROUND) == LIGHT
            await expect(toggle).to_have_attribute("aria-pressed", "false")
            await toggle.click()
            assert await page.evaluate(BACKGROUND) == DARK

            # "chosen components" with none chosen is refused, not "everything"
            form = page.locator("#subscribe-form")
            await form.get_by_label("Email address").fill("nobody@example.com")
            await form.get_by_label("Chosen components").check()
            await form.get_by_role("button", name="Subscribe").click()
            await expect(form.locator('[data-error-for="componentIds"]')).to_contain_text(
                "Choose at least one component")
            await expect(form.locator(".form-message")).to_be_empty()
            assert await Subscriber.all().count() == 0

            # the widget, framed by another site, follows the page
            embedder = await context.new_page()
            await embedder.clock.install()
            with other_site(f'<title>x</title><iframe src="{base}/p/demo/widget" '
                            'title="status"></iframe>') as address:
                await embedder.goto(address)
                widget = embedder.frame_locator("iframe").locator("#widget")
                await expect(widget).to_contain_text("All systems operational", timeout=LIVE)
            event_id = (await graphql(base, CREATE_INCIDENT, {"input": {
                "pageId": demo.id, "title": "Slow answers", "message": "Looking",
                "components": [{"componentId": api.id, "impact": "PARTIAL_OUTAGE"}]}},
                **tool))["createIncident"]["event"]["id"]
            await graphql(base, POST_UPDATE, {"input": {
                "eventId": event_id, "status": "MONITORING", "message": "Fix deployed",
                "notify": False}}, **tool)
            shown = ""
            for _ in range(10):  # a poll every 30 s of the page's (fake) clock
                await embedder.clock.run_for(31_000)
                await asyncio.sleep(0.2)
                shown = await widget.inner_text()
                if "Partial outage" in shown:
                    break
            assert "Partial outage" in shown, shown
            await embedder.close()

            # the console, dark: axe, presets, focus after a save
            await page.goto(f"{base}/signin?next=/manage/events/{event_id}")
            await page.get_by_label("Email").fill(DEMO_ADMIN)
            await page.get_by_label("Password").fill("heliograph-demo")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/manage/events/{event_id}")
            update = page.locator("#update-form")
            await expect(update.get_by_label("Status", exact=True)).to_have_value("MONITORING")
            await update.get_by_label("Message (Markdown)").fill("Still watching.")
            await update.get_by_label("Notify subscribers").uncheck()
            await update.get_by_role("button", name="Post update").click()
            await expect(page.locator("#update-form button[type=submit]")).to_be_focused(
                timeout=LIVE)
            await expect(page.locator("#update-form .form-message")).to_have_text("Saved.")
            assert (await Event.get(id=event_id)).status == EventStatus.MONITORING

            # a component's "counted from", typed in the page's zone with a preview
            await page.goto(f"{base}/manage/p/demo")
            assert_no_violations(await axe_violations(page))
            await page.screenshot(path=str(ARTIFACTS / "console-dark.png"), full_page=True)
            counted = (datetime.now(UTC) - timedelta(days=400)).replace(second=0,
                                                                        microsecond=0)
            wall = counted.astimezone(ZoneInfo("Europe/Berlin"))
            field = page.locator(f"#since-{api.id}")
            await field.fill(wall.strftime("%Y-%m-%dT%H:%M"))
            preview = page.locator(f'[data-preview-for="since-{api.id}"]')
            await expect(preview).to_contain_text("(Europe/Berlin)")
            await expect(preview).to_contain_text("in your browser's zone (UTC)")
            editor = page.locator("form").filter(has=page.locator(f"#since-{api.id}"))
            await editor.get_by_role("button", name="Save").click()
            await expect(editor.get_by_role("button", name="Save")).to_be_focused(timeout=LIVE)
            assert (await Component.get(id=api.id)).since == counted

            # a template never overwrites a typed title
            await page.goto(f"{base}/manage/p/demo/new/incident")
            await page.get_by_label("Title").fill("My own words")
            await page.get_by_label("Template").select_option(label="Slow API")
            await expect(page.get_by_label("Title")).to_have_value("My own words")
            await expect(page.get_by_label("Message (Markdown)")).to_have_value(
                "We are looking into it.")

            # revoking a token asks first; dismissed, nothing is revoked
            await page.goto(f"{base}/manage/tokens")
            asked: list[str] = []

            async def dismiss(dialog: Any) -> None:
                asked.append(dialog.message)
                await dialog.dismiss()

            page.on("dialog", dismiss)
            row = page.locator("tr").filter(has_text="keep me")
            await row.get_by_role("button", name="Revoke").click()
            for _ in range(100):
                if asked:
                    break
                await asyncio.sleep(0.05)
            assert asked and "keep me" in asked[0], asked
            kept = await ApiToken.get(name="keep me")
            assert kept.revoked_at is None
