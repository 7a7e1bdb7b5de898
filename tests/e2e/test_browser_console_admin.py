"""Administration from the console: users, roles, API tokens and templates."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from models import ApiToken, RoleAssignment, Template, User
from models.enums import Role
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import LIVE, axe_violations, chromium
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]


async def test_an_admin_adds_a_user_gives_a_role_makes_a_token_and_a_template() -> None:
    demo = await load_demo()
    with running_server() as base:
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{base}/signin?next=/manage/users")
            await page.get_by_label("Email").fill(DEMO_ADMIN)
            await page.get_by_label("Password").fill("heliograph-demo")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/manage/users")

            add = page.locator("form[data-mutation=createUser]")
            await add.get_by_label("Email").fill("editor@example.com")
            await add.get_by_label("Initial password").fill("another long password")
            async with page.expect_navigation(timeout=LIVE):
                await add.get_by_role("button", name="Add user").click()
            user = await User.get(email="editor@example.com")
            row = page.locator("#user-list tr", has_text="editor@example.com")
            await row.get_by_label("Role for editor@example.com").select_option(
                "EVENT_MANAGEMENT")
            await row.get_by_label("Page for editor@example.com").select_option(label=demo.name)
            async with page.expect_navigation(timeout=LIVE):
                await row.get_by_role("button", name="Give").click()
            roles = await RoleAssignment.filter(user_id=user.id)
            assert [(r.role, r.page_id) for r in roles] == [(Role.EVENT_MANAGEMENT, demo.id)]
            violations = await axe_violations(page)
            assert violations == [], [(v["id"], v["help"]) for v in violations]

            await page.goto(f"{base}/manage/tokens")
            await page.get_by_label("What it is for").fill("deploy bot")
            await page.get_by_role("button", name="Create token").click()
            secret = page.locator("#new-token")
            await expect(secret).to_be_visible(timeout=LIVE)
            token = await secret.inner_text()
            assert await ApiToken.filter(name="deploy bot").count() == 1
            async with httpx.AsyncClient(base_url=base) as http:
                answer = await http.post("/graphql", json={"query": "{ viewer { email } }"},
                                         headers={"authorization": f"Bearer {token}"})
            assert answer.json()["data"]["viewer"]["email"] == DEMO_ADMIN

            await page.goto(f"{base}/manage/p/demo/templates")
            form = page.locator("#template-form")
            await form.get_by_label("Template name").fill("Database slow")
            await form.get_by_label("Event title").fill("Slow database queries")
            await form.get_by_label("Data · EU database").select_option("DEGRADED")
            async with page.expect_navigation(timeout=LIVE):
                await form.get_by_role("button", name="Save template").click()
            template = await Template.get(page_id=demo.id, name="Database slow")
            assert template.title == "Slow database queries"
            assert [i["impact"] for i in template.impacts] == ["DEGRADED"]
            await expect(page.locator("#template-list")).to_contain_text("Database slow")
