"""Single sign-on in Chromium: from an internal page's sign-in link, through the real provider's
login page, back to the internal page; another organisation's account sees the refusal page."""

from __future__ import annotations

from typing import Any

import pytest

from models import User
from tests.e2e.test_live import make_page
from tests.helpers.browser import ARTIFACTS, axe_violations, chromium
from tests.helpers.oidc_provider import SECRET, provider
from tests.helpers.server import free_port, running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass]


async def test_a_member_signs_in_with_the_provider_in_a_browser(admin: Any) -> None:
    await make_page(admin, slug="staff", internal=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with provider(OIDC_TEST_REDIRECT_URI=f"{base}/signin/oidc/callback") as issuer:
        env = {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": "heliograph",
               "OIDC_CLIENT_SECRET": SECRET, "OIDC_ALLOWED_DOMAINS": "example.com",
               "OIDC_PROVIDER_NAME": "Test IdP"}
        with running_server(env, port=port):
            async with chromium() as browser:
                page = await browser.new_page()
                await page.goto(f"{base}/p/staff")
                assert "Component 0" not in await page.locator("body").inner_text()
                await page.locator("main").get_by_role("link", name="Sign in").click()
                await page.get_by_role("link", name="Sign in with Test IdP").click()
                # The provider's own login page (tests/e2e/oidc_provider.mjs).
                await page.get_by_role("link", name="alice").click()
                await page.wait_for_url(f"{base}/p/staff")
                assert "Component 0" in await page.locator("body").inner_text()

                other = await browser.new_page()
                await other.goto(f"{base}/signin?next=/p/staff")
                ARTIFACTS.mkdir(exist_ok=True)
                await other.screenshot(path=str(ARTIFACTS / "oidc-signin.png"))
                await other.get_by_role("link", name="Sign in with Test IdP").click()
                await other.get_by_role("link", name="mallory").click()
                await other.wait_for_url(f"{base}/signin/oidc/callback*")
                refusal = await other.locator("main").inner_text()
                assert "mallory@elsewhere.test may not sign in here" in refusal
                await other.screenshot(path=str(ARTIFACTS / "oidc-refused.png"))
                assert await axe_violations(other) == []
                await other.get_by_role("link", name="Back to the sign-in page").click()
                await other.wait_for_url(f"{base}/signin")
                await other.goto(f"{base}/p/staff")
                assert "Component 0" not in await other.locator("body").inner_text()
    assert await User.filter(email="alice@example.com").exists()
    assert not await User.filter(email="mallory@elsewhere.test").exists()
