"""An internal page shows nothing before sign-in, and everything (live too) after it."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from models import User
from models.enums import Visibility
from resolvers import component
from resolvers import page as pages
from resolvers.auth import load_actor
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import LIVE, chromium
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]


async def test_an_internal_page_needs_sign_in_and_then_shows_everything() -> None:
    await load_demo()
    admin = await load_actor(await User.get(email=DEMO_ADMIN), via="test")
    staff = await pages.create_page(actor=admin, slug="staff", name="Staff systems",
                                    visibility=Visibility.INTERNAL, time_zone="UTC")
    await component.create_component(actor=admin, page_id=staff.id, name="Payroll service")
    with running_server() as base:
        async with chromium() as browser:
            page = await browser.new_page()
            response = await page.goto(f"{base}/p/staff")
            assert response is not None and response.status == 404
            body = await page.locator("body").inner_text()
            assert "Staff systems" not in body and "Payroll" not in body
            assert "Page not found" in body
            for path in ("/p/staff/history", f"/p/staff/events/{staff.id}"):
                await page.goto(base + path)
                assert "Staff systems" not in await page.locator("body").inner_text()

            await page.goto(f"{base}/p/staff")
            await page.locator("main").get_by_role("link", name="Sign in").click()
            await page.get_by_label("Email").fill(DEMO_ADMIN)
            await page.get_by_label("Password").fill("heliograph-demo")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/p/staff")
            await expect(page.locator(".brand")).to_have_text("Staff systems")
            await expect(page.locator(".component .name")).to_have_text("Payroll service")
            await expect(page.locator("#banner")).to_have_text("All systems operational")
            # the live subscription authenticates with the session too
            await expect(page.locator("#live")).to_have_text("Live", timeout=LIVE)


async def test_a_member_deactivated_while_watching_stops_seeing_the_internal_page() -> None:
    from resolvers.account import create_user, issue_token
    from tests.helpers.browser import graphql

    await load_demo()
    root = await User.get(email=DEMO_ADMIN)
    admin = await load_actor(root, via="test")
    admin_token, _ = await issue_token(user=root)
    staff = await pages.create_page(actor=admin, slug="staff", name="Staff systems",
                                    visibility=Visibility.INTERNAL, time_zone="UTC")
    await component.create_component(actor=admin, page_id=staff.id, name="Payroll service")
    member = await create_user(email="leaver@example.com", password="leaver password")
    with running_server() as base:
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{base}/signin?next=/p/staff")
            await page.get_by_label("Email").fill("leaver@example.com")
            await page.get_by_label("Password").fill("leaver password")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/p/staff")
            await expect(page.locator(".component .name")).to_have_text("Payroll service")
            await expect(page.locator("#live")).to_have_text("Live", timeout=LIVE)

            await graphql(base, "mutation($id: ID!) { deactivateUser(input: {id: $id}) "
                                "{ __typename } }", {"id": member.id}, token=admin_token)
            # The live socket is closed (4403) and the page reloads as anonymous: not found.
            await expect(page.locator("body")).to_contain_text("Page not found", timeout=LIVE)
            assert "Payroll" not in await page.locator("body").inner_text()
