"""Alert webhooks through the app: Alertmanager, Grafana and the generic format open, update
and resolve the mapped incident; repeats change nothing; bad tokens and malformed payloads
get a 4xx with a reason and write nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models import AlertInbox, AuditEntry
from resolvers import automation
from tests.helpers.automation import (
    POST_UPDATE,
    REVOKE_INTEGRATION,
    am_alert,
    am_payload,
    grafana_payload,
    incidents,
    make_integration,
    make_page,
    make_rule,
    page_state,
    statuses,
    table_counts,
)
from web import metrics


async def post(client: httpx.AsyncClient, kind: str, token: str, body: Any,
               bearer: bool = False) -> httpx.Response:
    if bearer:
        return await client.post(f"/integrations/{kind}", json=body,
                                 headers={"authorization": f"Bearer {token}"})
    return await client.post(f"/integrations/{kind}/{token}", json=body)


async def deliver(client: httpx.AsyncClient, kind: str, token: str, body: Any) -> None:
    """Post a payload, see it accepted, and let the worker apply it."""
    response = await post(client, kind, token, body)
    assert response.status_code == 202, response.text
    await automation.step()


@pytest.fixture
async def alertmanager(gql: Any) -> dict[str, Any]:
    """A page, an Alertmanager integration, and a rule: service=api → API partially down,
    critical → fully down; a `component` label adds the component it names."""
    page_id, ids = await make_page(gql)
    integration_id, token = await make_integration(gql, page_id)
    rule_id = await make_rule(
        gql, page_id, name="API errors", componentIds=[ids["API"]], componentLabel="component",
        matchers=[{"label": "service", "op": "EQUALS", "value": "api"},
                  {"label": "env", "op": "REGEX", "value": "prod|production"},
                  {"label": "team", "op": "EXISTS"}],
        impactLabel="severity", impactMap=[{"value": "critical", "impact": "FULL_OUTAGE"}],
        titleTemplate="{alertname} on {service}", messageTemplate="We see {summary}.")
    return {"page": page_id, "ids": ids, "integration": integration_id, "token": token,
            "rule": rule_id}


LABELS = {"service": "api", "env": "prod", "team": "core"}


async def test_alertmanager_alert_opens_updates_and_resolves_the_incident(
        client: httpx.AsyncClient, gql: Any, alertmanager: dict[str, Any]) -> None:
    token = alertmanager["token"]
    await deliver(client, "alertmanager", token, am_payload(am_alert("fp1", **LABELS)))

    [incident] = await incidents(gql)
    assert incident["title"] == "HighErrorRate on api"
    assert incident["status"] == "INVESTIGATING"
    first = incident["updates"][0]
    assert first["automatic"] is True and first["notify"] is True
    assert "We see Errors on api." in first["message"]
    assert "HighErrorRate" in first["message"] and "Prometheus" in first["message"]
    assert "opened this incident automatically" in first["message"]
    assert await statuses(gql) == {"API": "PARTIAL_OUTAGE", "Web": "OPERATIONAL",
                                   "DB": "OPERATIONAL"}
    entry = await AuditEntry.filter(action="event.create").get()
    assert entry.actor_id is None and entry.actor_email == "integration:Prometheus"

    # A second, critical alert naming the Web component raises and adds impacts.
    second = am_alert("fp2", severity="critical", component="Web", **LABELS)
    await deliver(client, "alertmanager", token,
                  am_payload(am_alert("fp1", **LABELS), second))
    assert await statuses(gql) == {"API": "FULL_OUTAGE", "Web": "FULL_OUTAGE",
                                   "DB": "OPERATIONAL"}
    [incident] = await incidents(gql)
    assert len(incident["updates"]) == 2
    assert "fp2" not in incident["updates"][1]["message"]  # alerts are named, not keyed
    assert "HighErrorRate** is firing" in incident["updates"][1]["message"]

    # The critical one resolves: its impacts are lowered; the first keeps API down.
    await deliver(client, "alertmanager", token, am_payload(
        am_alert("fp1", **LABELS), {**second, "status": "resolved"}))
    assert await statuses(gql) == {"API": "PARTIAL_OUTAGE", "Web": "OPERATIONAL",
                                   "DB": "OPERATIONAL"}

    # The last resolve resolves the incident (no resolve hold-down on this rule).
    await deliver(client, "alertmanager", token,
                  am_payload(am_alert("fp1", status="resolved", **LABELS)))
    [incident] = await incidents(gql)
    assert incident["status"] == "RESOLVED"
    assert "resolved automatically" in incident["updates"][-1]["message"]
    assert await statuses(gql) == {"API": "OPERATIONAL", "Web": "OPERATIONAL",
                                   "DB": "OPERATIONAL"}
    assert await AuditEntry.filter(actor_email="integration:Prometheus").count() == 4


async def test_repeats_change_nothing(client: httpx.AsyncClient, gql: Any,
                                      alertmanager: dict[str, Any]) -> None:
    body = am_payload(am_alert("fp1", **LABELS), am_alert("fp2", **LABELS))
    await deliver(client, "alertmanager", alertmanager["token"], body)
    before = await page_state(gql)
    for _ in range(3):  # Alertmanager re-sends the group every repeat_interval
        await deliver(client, "alertmanager", alertmanager["token"], body)
    after = await page_state(gql)
    assert after == before
    assert len(after["events"]["nodes"][0]["updates"]) == 1
    assert await AlertInbox.filter(processed_at=None).count() == 0


async def test_alerts_matching_no_rule_open_nothing(client: httpx.AsyncClient, gql: Any,
                                                    alertmanager: dict[str, Any]) -> None:
    await deliver(client, "alertmanager", alertmanager["token"], am_payload(
        am_alert("x1", service="api", env="staging", team="core"),
        am_alert("x2", service="db", env="prod", team="core"),
        am_alert("x3", service="api", env="prod")))
    assert await incidents(gql) == []


async def test_grafana_alert_opens_and_resolves(client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id, kind="GRAFANA", name="Grafana")
    await make_rule(gql, page_id, componentIds=[ids["DB"]], impact="DEGRADED",
                    matchers=[{"label": "alertname", "op": "EQUALS", "value": "DiskFull"}])
    response = await post(client, "grafana", token, grafana_payload("g1"), bearer=True)
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 1
    await automation.step()
    [incident] = await incidents(gql)
    assert incident["title"] == "Disk almost full"
    assert await statuses(gql) == {"API": "OPERATIONAL", "Web": "OPERATIONAL",
                                   "DB": "DEGRADED"}
    await deliver(client, "grafana", token, grafana_payload("g1", status="resolved"))
    assert (await incidents(gql))[0]["status"] == "RESOLVED"


async def test_generic_format_single_alert_and_list(client: httpx.AsyncClient,
                                                    gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id, kind="GENERIC", name="Uptime checker")
    await make_rule(gql, page_id, componentIds=[ids["Web"]], impact="FULL_OUTAGE",
                    matchers=[{"label": "check", "op": "REGEX", "value": "web-.*"}])
    await deliver(client, "generic", token, {
        "key": "web-home", "status": "firing", "labels": {"check": "web-home"},
        "summary": "Home page down", "description": "HTTP 502 from 3 regions"})
    [incident] = await incidents(gql)
    assert incident["title"] == "Home page down"
    assert await statuses(gql) == {"API": "OPERATIONAL", "Web": "FULL_OUTAGE",
                                   "DB": "OPERATIONAL"}
    await deliver(client, "generic", token, {"alerts": [
        {"key": "web-home", "status": "resolved"},
        {"key": "never-fired", "status": "resolved"}]})
    assert (await incidents(gql))[0]["status"] == "RESOLVED"


async def test_wrong_missing_and_revoked_tokens_write_nothing(
        client: httpx.AsyncClient, gql: Any, alertmanager: dict[str, Any]) -> None:
    token = alertmanager["token"]
    body = am_payload(am_alert("fp1", **LABELS))
    before = await table_counts()
    wrong = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    for response in (
        await post(client, "alertmanager", wrong, body),
        await post(client, "alertmanager", wrong, body, bearer=True),
        await post(client, "alertmanager", "hgi_nope_nope", body),
        await client.post("/integrations/alertmanager", json=body),
    ):
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert await table_counts() == before

    revoked = await gql(REVOKE_INTEGRATION, {"input": {"id": alertmanager["integration"]}})
    assert revoked["data"]["revokeIntegration"]["integration"]["revokedAt"]
    before = await table_counts()
    response = await post(client, "alertmanager", token, body)
    assert response.status_code == 401
    await automation.step()
    assert await table_counts() == before
    assert await incidents(gql) == []


@pytest.mark.parametrize(("kind", "body", "status", "reason"), [
    ("alertmanager", b"{not json", 400, "not JSON"),
    ("alertmanager", [1, 2], 422, "JSON object"),
    ("alertmanager", {**am_payload(am_alert("f")), "version": "3"}, 422, "version"),
    ("alertmanager", {**am_payload(am_alert("f")), "alerts": "many"}, 422, "alerts"),
    ("alertmanager", {**am_payload(am_alert("f")), "alerts": []}, 422, "empty"),
    ("alertmanager", am_payload({**am_alert("f"), "fingerprint": ""}), 422, "fingerprint"),
    ("alertmanager", am_payload({**am_alert("f"), "status": "bad"}), 422, "firing"),
    ("alertmanager", am_payload({**am_alert("f"), "labels": {"a": 1}}), 422, "labels"),
    ("alertmanager", am_payload({**am_alert("f"), "startsAt": "yesterday"}), 422, "RFC 3339"),
    ("grafana", {"alerts": [{"status": "firing", "labels": {}}]}, 400, "ALERTMANAGER"),
    ("unknown", {}, 404, "/integrations/generic"),
])
async def test_malformed_payloads_are_refused_with_a_reason(
        client: httpx.AsyncClient, alertmanager: dict[str, Any], kind: str, body: Any,
        status: int, reason: str) -> None:
    before = await table_counts()
    url = f"/integrations/{kind}/{alertmanager['token']}"
    if isinstance(body, bytes):
        response = await client.post(url, content=body,
                                     headers={"content-type": "application/json"})
    else:
        response = await client.post(url, json=body)
    assert response.status_code == status, response.text
    assert reason in response.json()["error"]["message"]
    assert await table_counts() == before


async def test_generic_payload_needs_key_and_status(client: httpx.AsyncClient,
                                                    gql: Any) -> None:
    page_id, _ = await make_page(gql)
    _, token = await make_integration(gql, page_id, kind="GENERIC")
    before = await table_counts()
    for body, field in (({"status": "firing"}, "key"), ({"key": "k"}, "status"),
                        ({"key": "k", "status": "firing", "summary": 3}, "summary")):
        response = await post(client, "generic", token, body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
    assert await table_counts() == before


async def test_body_size_is_bounded(client: httpx.AsyncClient,
                                    alertmanager: dict[str, Any]) -> None:
    before = await table_counts()
    big = am_payload(am_alert("f", **LABELS))
    big["commonAnnotations"] = {"padding": "x" * (1024 * 1024)}
    response = await post(client, "alertmanager", alertmanager["token"], big)
    assert response.status_code == 413
    assert "limited" in response.json()["error"]["message"]
    assert await table_counts() == before


async def test_a_persons_update_wins(client: httpx.AsyncClient, gql: Any,
                                    alertmanager: dict[str, Any]) -> None:
    token = alertmanager["token"]
    await deliver(client, "alertmanager", token, am_payload(am_alert("fp1", **LABELS)))
    [incident] = await incidents(gql)
    posted = await gql(POST_UPDATE, {"input": {
        "eventId": incident["id"], "status": "IDENTIFIED", "message": "A bad deploy; rolling "
        "back.", "components": [{"componentId": alertmanager["ids"]["API"],
                                 "impact": "DEGRADED"}]}})
    assert posted["data"]["postEventUpdate"]["__typename"] == "PostEventUpdatePayload"

    # More alerts and the last resolve: only notes; the person's status and impacts stay.
    await deliver(client, "alertmanager", token, am_payload(
        am_alert("fp1", **LABELS), am_alert("fp2", severity="critical", **LABELS)))
    await deliver(client, "alertmanager", token, am_payload(
        am_alert("fp1", status="resolved", **LABELS),
        am_alert("fp2", status="resolved", severity="critical", **LABELS)))
    [incident] = await incidents(gql)
    assert incident["status"] == "IDENTIFIED"
    assert await statuses(gql) == {"API": "DEGRADED", "Web": "OPERATIONAL",
                                   "DB": "OPERATIONAL"}
    notes = incident["updates"][2:]
    assert len(notes) == 2
    assert all(n["automatic"] and n["components"] == [] and n["status"] == "IDENTIFIED"
               and not n["notify"] for n in notes)
    assert "is firing" in notes[0]["message"] and "resolved" in notes[1]["message"]

    # Once the person resolves it, a new alert opens a new incident.
    await gql(POST_UPDATE, {"input": {"eventId": incident["id"], "status": "RESOLVED",
                                      "message": "Rolled back."}})
    await automation.step()
    await deliver(client, "alertmanager", token, am_payload(am_alert("fp3", **LABELS)))
    assert [i["status"] for i in await incidents(gql)] == ["INVESTIGATING", "RESOLVED"]


async def test_metrics_show_the_inbox_backlog(app: Any, client: httpx.AsyncClient,
                                              alertmanager: dict[str, Any]) -> None:
    for key in ("m1", "m2"):
        response = await post(client, "alertmanager", alertmanager["token"],
                              am_payload(am_alert(key, **LABELS)))
        assert response.status_code == 202
    body = (await client.get("/metrics")).text
    assert "heliograph_alert_inbox_backlog 2" in body.splitlines()
    assert "heliograph_alert_inbox_failed 0" in body.splitlines()
    await automation.step()
    metrics.clear_cache(app)  # the figures are otherwise reused for FIGURES_SECONDS
    assert "heliograph_alert_inbox_backlog 0" in (await client.get("/metrics")).text


async def test_automated_changes_are_announced_like_any_other(
        client: httpx.AsyncClient, gql: Any, alertmanager: dict[str, Any]) -> None:
    from realtime import PageChange, hub

    seen: list[PageChange] = []
    remove = hub.add_local_listener(seen.append)
    try:
        start = (await page_state(gql))["sequence"]
        await deliver(client, "alertmanager", alertmanager["token"],
                      am_payload(am_alert("fp1", **LABELS)))
        await deliver(client, "alertmanager", alertmanager["token"],
                      am_payload(am_alert("fp1", status="resolved", **LABELS)))
    finally:
        remove()
    [incident] = await incidents(gql)
    mine = [c for c in seen if c.page_id == alertmanager["page"]]
    assert [(c.kind, c.sequence, c.event_id) for c in mine] == [
        ("EVENT_PUBLISHED", start + 1, incident["id"]),
        ("EVENT_UPDATED", start + 2, incident["id"])]
    assert mine[0].component_ids == (alertmanager["ids"]["API"],)
