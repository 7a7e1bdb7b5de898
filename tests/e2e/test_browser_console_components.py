"""A page manager shapes a page in the console: components, groups, order, errors by field."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from models import Component, ComponentGroup, StatusPage
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import LIVE, axe_violations, chromium
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]


async def test_components_are_added_reordered_and_errors_shown_by_field() -> None:
    demo = await load_demo()
    core = await ComponentGroup.get(page_id=demo.id, name="Core")
    with running_server() as base:
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{base}/signin?next=/manage")
            await page.get_by_label("Email").fill(DEMO_ADMIN)
            await page.get_by_label("Password").fill("heliograph-demo")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/manage")

            # a refusal is shown next to the input it concerns, and nothing is written
            create = page.locator("form[data-mutation=createPage]")
            await create.get_by_label("Name").fill("Another demo")
            await create.get_by_label("Slug").fill("demo")
            await create.get_by_role("button", name="Create page").click()
            await expect(create.locator('[data-error-for="slug"]')).not_to_be_empty(timeout=LIVE)
            assert await StatusPage.filter(name="Another demo").count() == 0
            violations = await axe_violations(page)
            assert violations == [], [(v["id"], v["help"]) for v in violations]

            await page.get_by_role("link", name="Heliograph Demo").first.click()
            await page.wait_for_url(f"{base}/manage/p/demo")
            add = page.locator("form[data-mutation=createComponent]")
            await add.get_by_label("Name").fill("CDN")
            await add.get_by_label("Group").select_option(label="Core")
            await add.get_by_role("button", name="Add component").click()
            await expect(page.locator('input[value="CDN"]')).to_be_visible(timeout=LIVE)
            cdn = await Component.get(page_id=demo.id, name="CDN")
            assert cdn.group_id == core.id

            async with page.expect_navigation(timeout=LIVE):  # reloads once it is saved
                await page.get_by_role("button", name="Move API down").click()
            await expect(page.locator(f'ul[data-group-id="{core.id}"] > li input[name=name]')
                         .first).to_have_value("Web app", timeout=LIVE)
            ordered = await Component.filter(group_id=core.id).order_by("position")
            assert [c.name for c in ordered][:2] == ["Web app", "API"]

            public = await browser.new_page()
            await public.goto(f"{base}/p/demo")
            names = await public.locator(f"#group-{core.id} .component .name").all_inner_texts()
            assert names[:2] == ["Web app", "API"] and "CDN" in names
