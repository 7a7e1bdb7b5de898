"""A real Prometheus Alertmanager posts to a real Heliograph process: an alert fired into
Alertmanager opens the mapped incident on the page, a second one raises the impact, the
re-sent groups change nothing, and the resolve resolves the incident after the hold-down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from models import AlertInbox, AuditEntry
from models.base import utcnow
from tests.helpers.alertmanager import running_alertmanager
from tests.helpers.automation import (
    CREATE_COMPONENT,
    CREATE_INTEGRATION,
    CREATE_PAGE,
    CREATE_RULE,
    PAGE_EVENTS,
    rfc3339,
)
from tests.helpers.server import running_server

pytestmark = pytest.mark.e2e

DEADLINE = 30.0  # liveness only: group_wait and group_interval are 1 s


class Api:
    def __init__(self, http: httpx.AsyncClient, base: str, token: str) -> None:
        self.http, self.base, self.token = http, base, token

    async def __call__(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"{self.base}/graphql", json={
            "query": query, "variables": variables},
            headers={"authorization": f"Bearer {self.token}"})
        body = response.json()
        assert "errors" not in body, body
        return dict(body["data"])

    async def page(self) -> dict[str, Any]:
        return dict((await self(PAGE_EVENTS, {"slug": "shop"}))["page"])


async def until(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {DEADLINE} s: {what}")
        await asyncio.sleep(0.2)


async def fire(http: httpx.AsyncClient, am: str, *alerts: dict[str, Any]) -> None:
    response = await http.post(f"{am}/api/v2/alerts", json=list(alerts))
    assert response.status_code == 200, response.text


def alert(severity: str, instance: str, resolved: datetime | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "labels": {"alertname": "CheckoutErrors", "service": "checkout",
                   "severity": severity, "instance": instance},
        "annotations": {"summary": f"Checkout failing on {instance}"},
    }
    if resolved is not None:
        body["endsAt"] = rfc3339(resolved)
    return body


async def test_alertmanager_opens_updates_and_resolves_the_incident(
        admin_token: str, tmp_path: Path) -> None:
    with running_server({"EMBEDDED_WORKER": "true"}) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            api = Api(http, base, admin_token)
            page_id = (await api(CREATE_PAGE, {"input": {"slug": "shop", "name": "Shop"}})
                       )["createPage"]["page"]["id"]
            ids = {}
            for name in ("Checkout", "Catalog"):
                made = await api(CREATE_COMPONENT, {"input": {"pageId": page_id, "name": name}})
                ids[name] = made["createComponent"]["component"]["id"]
            made = (await api(CREATE_INTEGRATION, {"input": {
                "pageId": page_id, "name": "Alertmanager", "kind": "ALERTMANAGER"}})
            )["createIntegration"]
            rule = (await api(CREATE_RULE, {"input": {
                "pageId": page_id, "name": "Checkout", "impact": "PARTIAL_OUTAGE",
                "componentIds": [ids["Checkout"]],
                "matchers": [{"label": "service", "op": "EQUALS", "value": "checkout"}],
                "impactLabel": "severity",
                "impactMap": [{"value": "critical", "impact": "FULL_OUTAGE"}],
                "titleTemplate": "Checkout problems", "resolveAfterSeconds": 2}})
            )["createAutomationRule"]
            assert rule["__typename"] == "CreateAutomationRulePayload", rule

            with running_alertmanager(tmp_path, made["integration"]["webhookUrl"],
                                      made["token"]) as am:
                await fire(http, am, alert("warning", "eu-1"))

                async def opened() -> Any:
                    page = await api.page()
                    return page if page["events"]["nodes"] else None

                page = await until(opened, "the incident opens")
                [incident] = page["events"]["nodes"]
                assert incident["title"] == "Checkout problems"
                assert incident["status"] == "INVESTIGATING"
                assert incident["updates"][0]["automatic"] is True
                assert "CheckoutErrors" in incident["updates"][0]["message"]
                assert {c["name"]: c["status"] for c in page["components"]} == {
                    "Checkout": "PARTIAL_OUTAGE", "Catalog": "OPERATIONAL"}

                # A critical alert joins the group: the same incident, a raised impact.
                await fire(http, am, alert("warning", "eu-1"), alert("critical", "us-1"))

                async def raised() -> Any:
                    page = await api.page()
                    status = {c["name"]: c["status"] for c in page["components"]}
                    return page if status["Checkout"] == "FULL_OUTAGE" else None

                await until(raised, "the critical alert raises the impact")
                # Read again: one GraphQL answer reads the page row before its statuses, so
                # the answer that showed the raise may carry the sequence from before it.
                page = await api.page()
                assert len(page["events"]["nodes"]) == 1
                updates = len(page["events"]["nodes"][0]["updates"])
                sequence = page["sequence"]

                # Alertmanager re-sends the group (repeat_interval 1 s): nothing changes.
                received = await AlertInbox.all().count()

                async def repeated() -> bool:
                    return await AlertInbox.filter(processed_at__not_isnull=True).count() \
                        >= received + 2

                await until(repeated, "Alertmanager re-sends the group twice")
                page = await api.page()
                assert page["sequence"] == sequence, page["events"]["nodes"][0]["updates"]
                assert len(page["events"]["nodes"][0]["updates"]) == updates

                # Both resolve: the components recover (MONITORING) and the incident is
                # RESOLVED once they stayed resolved for the 2 s hold-down, by the worker's
                # timer (Alertmanager sends nothing more). A notification that arrives later
                # than the hold-down resolves at once.
                ended = utcnow() - timedelta(seconds=1)
                await fire(http, am, alert("warning", "eu-1", resolved=ended),
                           alert("critical", "us-1", resolved=ended))

                async def resolved() -> Any:
                    page = await api.page()
                    event = page["events"]["nodes"][0]
                    return page if event["status"] == "RESOLVED" else None

                page = await until(resolved, "the incident resolves after the hold-down")
                [incident] = page["events"]["nodes"]
                statuses = [u["status"] for u in incident["updates"]]
                assert statuses[:2] == ["INVESTIGATING", "INVESTIGATING"]
                assert statuses[2:] in (["MONITORING", "RESOLVED"], ["RESOLVED"])
                resolved_at = datetime.fromisoformat(incident["updates"][-1]["at"])
                assert resolved_at >= ended + timedelta(seconds=2)
                assert "resolved automatically" in incident["updates"][-1]["message"]
                assert {c["name"]: c["status"] for c in page["components"]} == {
                    "Checkout": "OPERATIONAL", "Catalog": "OPERATIONAL"}
    actions = await AuditEntry.filter(actor_email="integration:Alertmanager").values_list(
        "action", flat=True)
    assert actions.count("event.create") == 1 and len(actions) == len(statuses)


async def test_alertmanager_with_a_wrong_token_writes_nothing(admin_token: str,
                                                              tmp_path: Path) -> None:
    with running_server({"EMBEDDED_WORKER": "true"}) as base:
        async with httpx.AsyncClient(timeout=10) as http:
            api = Api(http, base, admin_token)
            page_id = (await api(CREATE_PAGE, {"input": {"slug": "shop", "name": "Shop"}})
                       )["createPage"]["page"]["id"]
            made = await api(CREATE_COMPONENT, {"input": {"pageId": page_id, "name": "API"}})
            component = made["createComponent"]["component"]["id"]
            integration = (await api(CREATE_INTEGRATION, {"input": {
                "pageId": page_id, "name": "Alertmanager", "kind": "ALERTMANAGER"}})
            )["createIntegration"]
            await api(CREATE_RULE, {"input": {"pageId": page_id, "name": "Any",
                                              "impact": "FULL_OUTAGE",
                                              "componentIds": [component]}})
            wrong = integration["token"][:-6] + "xxxxxx"
            with running_alertmanager(tmp_path, integration["integration"]["webhookUrl"],
                                      wrong) as am:
                await fire(http, am, alert("critical", "eu-1"))

                async def refused() -> bool:
                    metrics = (await http.get(f"{am}/metrics")).text
                    return any(line.startswith(
                        'alertmanager_notifications_failed_total{integration="webhook"')
                        and not line.endswith(" 0") for line in metrics.splitlines())

                await until(refused, "Alertmanager's webhook is refused")
            page = await api.page()
    assert page["events"]["nodes"] == []
    assert await AlertInbox.all().count() == 0
