"""Automation from the console: create an integration (its token shown once), a rule with a
label matcher, and see the incident an alert opens listed beside the rule."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from models import AutomationRule, Integration
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import LIVE, chromium
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]


async def test_a_manager_sets_up_automation_and_sees_its_incident() -> None:
    await load_demo()
    with running_server({"EMBEDDED_WORKER": "true"}) as base:
        async with chromium() as browser:
            page = await browser.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            await page.goto(f"{base}/signin?next=/manage/p/demo/automation")
            await page.get_by_label("Email").fill(DEMO_ADMIN)
            await page.get_by_label("Password").fill("heliograph-demo")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/manage/p/demo/automation")

            # an integration: its token is shown once, then only its prefix
            form = page.locator("#integration-form")
            await form.get_by_label("Name").fill("Prometheus")
            await form.get_by_label("Sender").select_option(label="Prometheus Alertmanager")
            await form.get_by_role("button", name="Create integration").click()
            shown = page.locator("#new-integration")
            await expect(shown).to_contain_text("hgi_", timeout=LIVE)
            token = (await shown.inner_text()).split("Token (shown once): ")[1].split(" ")[0]
            integration = await Integration.get(name="Prometheus")
            assert token.split("_")[1] == integration.prefix

            # a rule: service=checkout takes the API down partially
            rule = page.locator("#rule-form")
            await rule.get_by_label("Rule name").fill("Checkout")
            await rule.locator("#m-label-0").fill("service")
            await rule.locator("#m-value-0").fill("checkout")
            await rule.get_by_label("API", exact=True).check()
            await rule.get_by_label("Impact").select_option(label="Partial outage")
            async with page.expect_navigation(timeout=LIVE):
                await rule.get_by_role("button", name="Save rule").click()
            saved = await AutomationRule.get(name="Checkout")
            assert saved.matchers == [{"label": "service", "op": "EQUALS", "value": "checkout"}]
            row = page.locator("#rule-list tbody tr", has_text="Checkout")
            await expect(row).to_contain_text('service="checkout"')
            assert token not in await page.content()

            # an alert opens the incident the rule then lists
            async with httpx.AsyncClient() as http:
                response = await http.post(
                    f"{base}/integrations/alertmanager",
                    headers={"authorization": f"Bearer {token}"},
                    json={"version": "4", "alerts": [{
                        "status": "firing", "fingerprint": "c1",
                        "labels": {"alertname": "CheckoutDown", "service": "checkout"},
                        "annotations": {"summary": "Checkout is down"}}]})
                assert response.status_code == 202, response.text
            for _ in range(50):
                await page.reload()
                if await row.filter(has_text="Checkout is down").count():
                    break
                await page.wait_for_timeout(200)
            await expect(row).to_contain_text("Checkout is down")
