"""The open status page follows changes without reload, and survives a server restart."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from models import Component, StatusPage, User
from models.enums import ComponentStatus
from resolvers.account import issue_token
from resolvers.auth import load_actor
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import LIVE, chromium, graphql
from tests.helpers.server import free_port, running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]

CREATE_INCIDENT = """
mutation($input: CreateIncidentInput!) {
  createIncident(input: $input) {
    __typename ... on CreateIncidentPayload { event { id } } ... on Error { message field }
  }
}
"""
POST_UPDATE = """
mutation($input: PostEventUpdateInput!) {
  postEventUpdate(input: $input) { __typename ... on Error { message field } }
}
"""


async def open_live(browser: Any, url: str) -> Any:
    page = await browser.new_page()
    await page.goto(url)
    await expect(page.locator("#live")).to_have_text("Live", timeout=LIVE)
    # a marker that a reload would wipe out
    await page.evaluate("window.__notReloaded = true")
    return page


def component_badge(page: Any, name: str) -> Any:
    row = page.locator(".component").filter(has=page.locator(".name", has_text=name)).first
    return row.locator(".badge .word")


async def test_a_published_incident_and_its_resolution_appear_without_reload() -> None:
    demo = await load_demo()
    api = await Component.get(page_id=demo.id, name="API")
    web = await Component.get(page_id=demo.id, name="Web app")
    token, _ = await issue_token(user=await User.get(email=DEMO_ADMIN), name="browser")
    with running_server() as base:
        async with chromium() as browser:
            page = await open_live(browser, f"{base}/p/demo")
            data = await graphql(base, CREATE_INCIDENT, {"input": {
                "pageId": demo.id, "title": "Elevated API errors",
                "message": "We are **investigating** errors.",
                "components": [{"componentId": api.id, "impact": "PARTIAL_OUTAGE"},
                               {"componentId": web.id, "impact": "DEGRADED"}],
            }}, token=token)
            event_id = data["createIncident"]["event"]["id"]
            await expect(page.locator("#banner")).to_have_text("Partial outage", timeout=LIVE)
            await expect(component_badge(page, "API")).to_have_text("Partial outage")
            await expect(component_badge(page, "Web app")).to_have_text("Degraded performance")
            incident = page.locator("#events-live .incidents .event")
            await expect(incident).to_contain_text("Elevated API errors", timeout=LIVE)
            await expect(incident.locator(".message strong")).to_have_text("investigating")

            data = await graphql(base, POST_UPDATE, {"input": {
                "eventId": event_id, "status": "RESOLVED", "message": "Fixed.",
            }}, token=token)
            assert data["postEventUpdate"]["__typename"].endswith("Payload"), data
            await expect(page.locator("#banner")).to_have_text("All systems operational",
                                                               timeout=LIVE)
            await expect(component_badge(page, "API")).to_have_text("Operational")
            await expect(component_badge(page, "Web app")).to_have_text("Operational")
            await expect(page.locator("#events-live .incidents")).to_be_hidden(timeout=LIVE)
            await expect(page.locator("#recent-live")).to_contain_text("Elevated API errors")
            assert await page.evaluate("window.__notReloaded === true")


async def test_after_a_restart_the_page_reconnects_and_shows_what_changed_meanwhile() -> None:
    demo = await load_demo()
    api = await Component.get(page_id=demo.id, name="API")
    port = free_port()
    async with chromium() as browser:
        with running_server(port=port) as base:
            page = await open_live(browser, f"{base}/p/demo")
        await expect(page.locator("#live")).to_have_text("Reconnecting…", timeout=LIVE)

        from resolvers.event import create_incident

        admin = await load_actor(await User.get(email=DEMO_ADMIN), via="test")
        await create_incident(actor=admin, page_id=demo.id, title="Database failover",
                              message="Failing over.",
                              components=[(api.id, ComponentStatus.FULL_OUTAGE)])
        assert (await StatusPage.get(id=demo.id)).sequence > 0

        with running_server(port=port):
            await expect(page.locator("#live")).to_have_text("Live", timeout=LIVE * 3)
            await expect(page.locator("#banner")).to_have_text("Major outage", timeout=LIVE)
            await expect(component_badge(page, "API")).to_have_text("Major outage")
            await expect(page.locator("#events-live")).to_contain_text("Database failover",
                                                                       timeout=LIVE)
            assert await page.evaluate("window.__notReloaded === true")


async def test_a_change_the_page_never_heard_of_is_caught_up_at_the_next_one() -> None:
    demo = await load_demo()
    api = await Component.get(page_id=demo.id, name="API")
    web = await Component.get(page_id=demo.id, name="Web app")
    token, _ = await issue_token(user=await User.get(email=DEMO_ADMIN), name="browser")
    with running_server() as base:
        async with chromium() as browser:
            page = await open_live(browser, f"{base}/p/demo")
            # committed by another process whose signal never reaches this server: a gap
            from resolvers.event import create_incident

            admin = await load_actor(await User.get(email=DEMO_ADMIN), via="test")
            await create_incident(actor=admin, page_id=demo.id, title="Unheard incident",
                                  message="x", components=[(web.id, ComponentStatus.DEGRADED)])
            await graphql(base, CREATE_INCIDENT, {"input": {
                "pageId": demo.id, "title": "Heard incident", "message": "y",
                "components": [{"componentId": api.id, "impact": "FULL_OUTAGE"}],
            }}, token=token)
            await expect(page.locator("#banner")).to_have_text("Major outage", timeout=LIVE)
            await expect(component_badge(page, "Web app")).to_have_text("Degraded performance",
                                                                        timeout=LIVE)
            await expect(page.locator("#events-live")).to_contain_text("Unheard incident",
                                                                       timeout=LIVE)
            await expect(page.locator("#events-live")).to_contain_text("Heard incident")
            assert await page.evaluate("window.__notReloaded === true")
