"""The console's automation screen: a page manager sees the page's integrations (never their
tokens) and rules with the incident each follows; a member without the role sees a refusal."""

from __future__ import annotations

from typing import Any

import httpx

from resolvers import automation
from resolvers.account import create_user
from tests.helpers.automation import make_integration, make_page, make_rule
from tests.web.test_pages import text


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> None:
    response = await client.post("/signin", data={"email": email, "password": password,
                                                  "next": "/manage"},
                                 headers={"origin": "http://testserver"})
    assert response.status_code == 303, response.text


async def test_a_page_manager_sees_integrations_and_rules(client: httpx.AsyncClient,
                                                         gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id, name="Prod Prometheus")
    await make_rule(gql, page_id, name="Checkout down", componentIds=[ids["API"]],
                    matchers=[{"label": "service", "op": "EQUALS", "value": "checkout"}],
                    openAfterSeconds=60)
    response = await client.post(f"/integrations/alertmanager/{token}", json={
        "version": "4", "alerts": [{"status": "firing", "fingerprint": "f1",
                                    "labels": {"alertname": "Down", "service": "checkout"},
                                    "annotations": {"summary": "Checkout is down"},
                                    "startsAt": "2026-01-01T00:00:00Z"}]})
    assert response.status_code == 202
    await automation.step()

    await sign_in(client, "admin@example.com", "correct horse")
    screen = await client.get("/manage/p/acme/automation")
    assert screen.status_code == 200
    shown = text(screen.text)
    assert 'class="panel error"' not in screen.text, shown
    assert "Prod Prometheus" in shown and "Prometheus Alertmanager" in shown
    assert "http://testserver/integrations/alertmanager" in shown
    assert token.split("_")[1] in shown and token not in screen.text
    assert "Checkout down" in shown and 'service="checkout"' in shown
    assert "open after 60 s" in shown
    assert "Checkout is down" in shown  # the incident the rule follows
    assert 'href="/manage/p/acme/automation"' in (await client.get("/manage/p/acme")).text


async def test_a_member_without_the_role_sees_the_refusal(client: httpx.AsyncClient,
                                                          gql: Any) -> None:
    page_id, _ = await make_page(gql)
    await make_integration(gql, page_id, name="Secret sender")
    await create_user(email="viewer@example.com", password="a long password")
    await sign_in(client, "viewer@example.com", "a long password")
    screen = await client.get("/manage/p/acme/automation")
    assert screen.status_code == 200
    assert "Secret sender" not in screen.text
    assert 'class="panel error"' in screen.text
