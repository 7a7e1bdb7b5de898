"""A page in Simplified Chinese on its own domain, in a real browser: Chromium resolves the
page's domain to the local server; the page answers at the root of that host in Chinese (banner,
impact, dates, title with the active incident), its links stay on the domain, and a visitor whose
browser asks for Chinese reads an English page that allows it in Chinese."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import async_playwright, expect

from models.words import words
from resolvers.account import issue_token
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import ARGS, CHROMIUM, graphql
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]

DOMAIN = "status.shop.test"
CREATE_PAGE = """mutation($input: CreatePageInput!) { createPage(input: $input) {
  __typename ... on CreatePagePayload { page { id } } ... on Error { code message } } }"""
CREATE_COMPONENT = """mutation($input: CreateComponentInput!) { createComponent(input: $input) {
  ... on CreateComponentPayload { component { id } } } }"""
CREATE_INCIDENT = """mutation($input: CreateIncidentInput!) { createIncident(input: $input) {
  __typename } }"""


async def test_a_chinese_page_on_its_own_domain_and_a_chinese_visitor() -> None:
    from models import User

    await load_demo()
    admin = await User.get(email=DEMO_ADMIN)
    token, _ = await issue_token(user=admin, name="tests")
    zh = words("zh-CN")
    with running_server() as base:
        port = urlsplit(base).port
        made = await graphql(base, CREATE_PAGE, {"input": {
            "slug": "shop", "name": "Shop", "language": "zh-CN", "timeZone": "Asia/Shanghai",
            "allowVisitorLanguage": False, "domains": [DOMAIN]}}, token)
        page_id = made["createPage"]["page"]["id"]
        component = await graphql(base, CREATE_COMPONENT, {"input": {
            "pageId": page_id, "name": "Checkout"}}, token)
        await graphql(base, CREATE_INCIDENT, {"input": {
            "pageId": page_id, "title": "Payments failing", "message": "Looking into it",
            "components": [{"componentId": component["createComponent"]["component"]["id"],
                            "impact": "PARTIAL_OUTAGE"}]}}, token)

        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=CHROMIUM,
                args=[*ARGS, f"--host-resolver-rules=MAP {DOMAIN} 127.0.0.1"])
            try:
                # An English-speaking visitor on the page's own domain: the page's language.
                visitor = await browser.new_page(locale="en-US")
                await visitor.goto(f"http://{DOMAIN}:{port}/")
                await expect(visitor.locator("html")).to_have_attribute("lang", "zh-CN")
                body = visitor.locator("body")
                await expect(body).to_contain_text(zh["status"]["PARTIAL_OUTAGE"])
                await expect(body).to_contain_text("Payments failing")
                assert "Partial outage" not in await body.inner_text()
                assert (await visitor.title()).startswith("⚠ Payments failing")
                # Follow the history link: it stays on the domain and reads in Chinese.
                await visitor.locator("a[href$='/history']").first.click()
                await visitor.wait_for_load_state()
                assert urlsplit(visitor.url).hostname == DOMAIN
                await expect(visitor.locator("body")).to_contain_text("年")
                # The page's JSON at the root path of its domain names the domain.
                summary = await visitor.evaluate(
                    "async () => (await fetch('/api/v2/summary.json')).json()")
                assert urlsplit(summary["page"]["url"]).hostname == DOMAIN

                # A Chinese-speaking visitor on the English demo page (which allows it).
                reader = await browser.new_page(locale="zh-CN")
                await reader.goto(f"{base}/p/demo")
                await expect(reader.locator("html")).to_have_attribute("lang", "zh-CN")
                text = await reader.locator("main").inner_text()
                assert any(word in text for word in zh["status"].values()), text[:300]
                english = await browser.new_page(locale="en-US")
                await english.goto(f"{base}/p/demo")
                await expect(english.locator("html")).to_have_attribute("lang", "en")
            finally:
                await browser.close()
