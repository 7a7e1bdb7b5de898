"""The Content-Security-Policy is enforced by a real browser and breaks nothing: the status page
goes live over its websocket and follows a change, the subscribe form answers, the console
works — and Chromium reports no violation on any of them."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from models import Component, User
from resolvers.account import issue_token
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import LIVE, chromium, graphql
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]


def watch_violations(page: Any) -> list[str]:
    """Every CSP violation the page reports, from the console and the DOM event."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
    page.on("console", lambda m: seen.append(m.text) if m.text.startswith("CSP:") else None)
    return seen


CREATE_INCIDENT = """
mutation($input: CreateIncidentInput!) {
  createIncident(input: $input) { __typename ... on Error { message field } }
}
"""
LISTEN = """document.addEventListener('securitypolicyviolation',
  e => console.log('CSP: ' + e.violatedDirective + ' ' + e.blockedURI))"""


async def test_pages_work_under_the_policy_without_a_single_violation() -> None:
    demo = await load_demo()
    token, _ = await issue_token(user=await User.get(email=DEMO_ADMIN), name="csp")
    api = await Component.get(page_id=demo.id, name="API")
    with running_server() as base:
        async with chromium() as browser:
            context = await browser.new_context()
            await context.add_init_script(LISTEN)
            page = await context.new_page()
            violations = watch_violations(page)
            response = await page.goto(f"{base}/p/demo")
            assert response is not None
            assert "script-src 'self'" in response.headers["content-security-policy"]
            await expect(page.locator("#live")).to_have_text("Live", timeout=LIVE)
            # A tool publishes through the server; the open page follows over its socket.
            await graphql(base, CREATE_INCIDENT, {"input": {
                "pageId": demo.id, "title": "CSP check", "message": "Checking",
                "components": [{"componentId": api.id, "impact": "PARTIAL_OUTAGE"}]}},
                token=token)
            row = page.locator(".component").filter(
                has=page.locator(".name", has_text="API")).first
            await expect(row.locator(".badge .word")).to_have_text("Partial outage",
                                                                   timeout=LIVE)
            await page.locator("#subscribe-email").fill("csp@example.com")
            await page.locator("#subscribe-form button[type=submit]").click()
            await expect(page.locator("#subscribe-form .form-message")).to_contain_text(
                "confirm", timeout=LIVE)

            event_path = await page.locator("a[href*='/events/']").first.get_attribute("href")
            assert event_path and event_path.startswith("/p/demo/events/"), event_path
            for path in ("/p/demo/history", event_path, "/subscriptions/manage/x", "/p/nosuch"):
                await page.goto(f"{base}{path}")
                await page.wait_for_load_state("networkidle")

            await page.goto(f"{base}/signin?next=/manage")
            await page.get_by_label("Email").fill(DEMO_ADMIN)
            await page.get_by_label("Password").fill("heliograph-demo")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/manage")
            for path in ("/manage/p/demo", "/manage/p/demo/new/incident",
                         "/manage/p/demo/subscribers", "/manage/p/demo/deliveries",
                         "/manage/users", "/manage/tokens", "/manage/im"):
                await page.goto(f"{base}{path}")
                await page.wait_for_load_state("networkidle")
            # The incident form's template picker is script: it still fills the form.
            await page.goto(f"{base}/manage/p/demo/new/incident")
            await page.get_by_label("Title").fill("Scripted")
            await expect(page.get_by_label("Title")).to_have_value("Scripted")
            assert violations == []
