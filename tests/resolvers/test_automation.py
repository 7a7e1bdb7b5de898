"""Automation over time and under failure: hold-down timers driven by the worker's loop (an
explicit clock, no sleeping), flapping alerts keep one incident, rules over GraphQL refuse bad
input, and a restart in the middle of a burst loses and repeats nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from models import AlertInbox, AlertState, AuditEntry, EventUpdate, NotificationJob
from models.base import utcnow
from notifications import lease
from resolvers import alert_inbox, automation
from tests.helpers.automation import (
    CREATE_RULE,
    DELETE_RULE,
    POST_UPDATE,
    RULES,
    UPDATE_RULE,
    incidents,
    make_integration,
    make_page,
    make_rule,
    rfc3339,
    statuses,
    table_counts,
)

DELETE_COMPONENT = """
mutation($input: DeleteComponentInput!) { deleteComponent(input: $input) { __typename } }"""
EVENT_STARTED = "query($id: ID!) { event(id: $id) { startedAt status } }"


def alert(key: str, status: str = "firing", starts: datetime | None = None,
          **labels: str) -> dict[str, Any]:
    """An Alertmanager-shaped alert (the generic format has no startsAt)."""
    return {"status": status, "fingerprint": key, "labels": {"alertname": key, **labels},
            "annotations": {"summary": f"{key} is bad"},
            "startsAt": rfc3339(starts or utcnow())}


async def send(client: httpx.AsyncClient, token: str, *alerts: dict[str, Any]) -> None:
    response = await client.post(f"/integrations/alertmanager/{token}",
                                 json={"version": "4", "alerts": list(alerts)})
    assert response.status_code == 202, response.text


async def test_hold_down_opens_after_n_and_resolves_after_m_seconds(
        client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["API"]], openAfterSeconds=120,
                    resolveAfterSeconds=300)
    fired = utcnow() - timedelta(seconds=30)
    await send(client, token, alert("a1", starts=fired))
    await automation.step()
    assert await incidents(gql) == []  # fired 30 s ago: held down

    # Nothing else arrives; the worker's timer opens it once 120 s have passed.
    await automation.run_timers(fired + timedelta(seconds=100))
    assert await incidents(gql) == []
    await automation.run_timers(fired + timedelta(seconds=120))
    [incident] = await incidents(gql)
    assert incident["status"] == "INVESTIGATING"
    assert (await statuses(gql))["API"] == "PARTIAL_OUTAGE"
    started = (await gql(EVENT_STARTED, {"id": incident["id"]}))["data"]["event"]
    # The outage is counted from when the alert fired, not from when the hold-down ended.
    assert datetime.fromisoformat(started["startedAt"]) == fired

    # Resolved: the components recover at once, the incident waits 300 s in MONITORING.
    await send(client, token, alert("a1", status="resolved"))
    resolved = utcnow()
    await automation.step(resolved + timedelta(seconds=130))
    [incident] = await incidents(gql)
    assert incident["status"] == "MONITORING"
    assert "300 s" in incident["updates"][-1]["message"]
    assert (await statuses(gql))["API"] == "OPERATIONAL"
    await automation.run_timers(resolved + timedelta(seconds=200))
    assert (await incidents(gql))[0]["status"] == "MONITORING"
    await automation.run_timers(resolved + timedelta(seconds=301))
    [incident] = await incidents(gql)
    assert incident["status"] == "RESOLVED"
    assert [u["status"] for u in incident["updates"]] == [
        "INVESTIGATING", "MONITORING", "RESOLVED"]


async def test_an_alert_resolved_within_the_hold_down_opens_nothing(
        client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["API"]], openAfterSeconds=120)
    await send(client, token, alert("blip"))
    await automation.step()
    await send(client, token, alert("blip", status="resolved"))
    await automation.step()
    await automation.run_timers(utcnow() + timedelta(seconds=600))
    assert await incidents(gql) == []


async def test_an_alert_that_fires_again_while_monitoring_keeps_one_incident(
        client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["DB"]], impact="FULL_OUTAGE",
                    resolveAfterSeconds=600)
    await send(client, token, alert("db"))
    await automation.step()
    await send(client, token, alert("db", status="resolved"))
    await automation.step()
    assert (await incidents(gql))[0]["status"] == "MONITORING"
    await send(client, token, alert("db"))
    await automation.step()
    [incident] = await incidents(gql)
    assert incident["status"] == "INVESTIGATING"
    assert (await statuses(gql))["DB"] == "FULL_OUTAGE"
    assert [u["status"] for u in incident["updates"]] == [
        "INVESTIGATING", "MONITORING", "INVESTIGATING"]


async def test_notify_false_rules_publish_without_notifications(
        client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["API"]], notify=False,
                    matchers=[{"label": "alertname", "op": "EQUALS", "value": "quiet"}])
    await send(client, token, alert("quiet"))
    await automation.step()
    [incident] = await incidents(gql)
    assert incident["updates"][0]["notify"] is False
    assert await NotificationJob.all().count() == 0
    await make_rule(gql, page_id, componentIds=[ids["Web"]], position=0,
                    matchers=[{"label": "loud", "op": "EXISTS"}])
    await send(client, token, alert("loud", loud="yes"))
    await automation.step()
    assert await NotificationJob.all().count() == 1


async def test_a_restart_mid_burst_loses_and_repeats_nothing(
        client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["API"]])
    # A burst arrives while no worker runs: every payload is stored before the 202.
    for i in range(12):
        await send(client, token, alert(f"k{i}"))
    for i in range(0, 12, 2):
        await send(client, token, alert(f"k{i}", status="resolved"))
    assert await AlertInbox.filter(processed_at=None).count() == 18

    # A worker claimed the first ten and died before committing any of them.
    now = utcnow()
    first = await AlertInbox.all().order_by("received_at", "id").limit(10).values_list(
        "id", flat=True)
    held = await lease.claim(AlertInbox, list(first), "dead-worker#1", now, 30)
    assert len(held) == 10
    assert await automation.process_inbox(now) == 0  # the survivors wait for the lease
    assert await incidents(gql) == []

    # After the lease expires a new worker applies every row, once, in order.
    later = now + timedelta(seconds=31)
    assert await automation.process_inbox(later) == 18
    assert await automation.process_inbox(later) == 0
    assert await AlertInbox.filter(processed_at=None).count() == 0
    firing = await AlertState.filter(firing=True).order_by("key").values_list("key", flat=True)
    assert sorted(firing) == sorted(f"k{i}" for i in range(1, 12, 2))
    # One batch: the incident shows the state the burst ended in, each firing alert once.
    [incident] = await incidents(gql)
    assert len(incident["updates"]) == 1
    text = incident["updates"][0]["message"]
    assert [text.count(f"**k{i}**") for i in range(12)] == [0, 1] * 6
    assert (await statuses(gql))["API"] == "PARTIAL_OUTAGE"
    # A late commit from the dead worker is refused: applying its row again changes nothing.
    before = await table_counts()
    row = await AlertInbox.get(id=first[0])
    try:
        await alert_inbox._apply_row(row, "dead-worker#1")
    except RuntimeError:
        pass
    assert await table_counts() == before


async def test_rules_over_graphql_refuse_bad_input_and_list_in_order(gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, other_ids = await make_page(gql, slug="other")
    before = await table_counts()
    bad = [
        ({"impact": "OPERATIONAL", "componentIds": [ids["API"]]}, "impact"),
        ({"impact": "UNDER_MAINTENANCE", "componentIds": [ids["API"]]}, "impact"),
        ({"impact": "DEGRADED"}, "componentIds"),
        ({"impact": "DEGRADED", "componentIds": [other_ids["API"]]}, "componentIds"),
        ({"impact": "DEGRADED", "componentIds": [ids["API"]],
          "matchers": [{"label": "a", "op": "REGEX", "value": "("}]}, "matchers"),
        ({"impact": "DEGRADED", "componentIds": [ids["API"]],
          "matchers": [{"label": "a", "op": "EQUALS"}]}, "matchers"),
        ({"impact": "DEGRADED", "componentIds": [ids["API"]], "openAfterSeconds": -1},
         "openAfterSeconds"),
        ({"impact": "DEGRADED", "componentIds": [ids["API"]],
          "impactMap": [{"value": "x", "impact": "OPERATIONAL"}]}, "impactMap"),
    ]
    for fields, field in bad:
        body = await gql(CREATE_RULE, {"input": {"pageId": page_id, "name": "r", **fields}})
        result = body["data"]["createAutomationRule"]
        assert (result["__typename"], result["field"]) == ("InvalidInputError", field), fields
    assert await table_counts() == before

    first = await make_rule(gql, page_id, name="first", componentIds=[ids["API"]],
                            matchers=[{"label": "sev", "op": "EXISTS", "value": "ignored"}])
    second = await make_rule(gql, page_id, name="second", componentIds=[ids["Web"]])
    updated = await gql(UPDATE_RULE, {"input": {"id": second, "position": 0,
                                                "openAfterSeconds": 30, "humanWins": False}})
    assert updated["data"]["updateAutomationRule"]["rule"]["openAfterSeconds"] == 30
    nulled = await gql(UPDATE_RULE, {"input": {"id": second, "impact": None}})
    assert nulled["data"]["updateAutomationRule"]["field"] == "impact"
    listed = (await gql(RULES, {"pageId": page_id}))["data"]["automationRules"]
    assert [r["name"] for r in listed] == ["second", "first"]
    assert listed[1]["matchers"] == [{"label": "sev", "op": "EXISTS", "value": ""}]
    deleted = await gql(DELETE_RULE, {"input": {"id": first}})
    assert deleted["data"]["deleteAutomationRule"]["deletedRuleId"] == first
    assert [a.action for a in await AuditEntry.filter(target_type="rule").order_by("at")] == [
        "rule.create", "rule.create", "rule.update", "rule.delete"]


async def test_the_first_matching_rule_takes_the_alert(client: httpx.AsyncClient,
                                                       gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, name="db", componentIds=[ids["DB"]],
                    matchers=[{"label": "service", "op": "EQUALS", "value": "db"}])
    await make_rule(gql, page_id, name="catch-all", componentIds=[ids["Web"]],
                    impact="DEGRADED")
    await send(client, token, alert("d", service="db"), alert("w", service="web"))
    await automation.step()
    assert await statuses(gql) == {"API": "OPERATIONAL", "Web": "DEGRADED",
                                   "DB": "PARTIAL_OUTAGE"}
    assert len(await incidents(gql)) == 2
    assert await EventUpdate.filter(automatic=True).count() == 2


async def test_with_human_wins_off_automation_keeps_managing(client: httpx.AsyncClient,
                                                             gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["API"]], humanWins=False,
                    impactLabel="severity",
                    impactMap=[{"value": "critical", "impact": "FULL_OUTAGE"}])
    await send(client, token, alert("a"))
    await automation.step()
    [incident] = await incidents(gql)
    await gql(POST_UPDATE, {"input": {"eventId": incident["id"], "status": "IDENTIFIED",
                                      "message": "Looking into it."}})
    await send(client, token, alert("a"), alert("b", severity="critical"))
    await automation.step()
    assert (await statuses(gql))["API"] == "FULL_OUTAGE"
    await send(client, token, alert("a", status="resolved"),
               alert("b", status="resolved", severity="critical"))
    await automation.step()
    [incident] = await incidents(gql)
    assert incident["status"] == "RESOLVED"


async def test_a_component_deleted_under_an_open_incident_drops_out(
        client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["API"], ids["Web"]])
    await send(client, token, alert("a"))
    await automation.step()
    deleted = await gql(DELETE_COMPONENT, {"input": {"id": ids["Web"]}})
    assert deleted["data"]["deleteComponent"]["__typename"] == "DeleteComponentPayload"
    await send(client, token, alert("a", status="resolved"))
    await automation.step()
    [incident] = await incidents(gql)
    assert incident["status"] == "RESOLVED"
    assert await statuses(gql) == {"API": "OPERATIONAL", "DB": "OPERATIONAL"}


async def test_an_old_alert_backdates_the_incident_by_the_hold_down_at_most(
        client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["API"]], openAfterSeconds=60)
    before = utcnow()
    await send(client, token, alert("old", starts=before - timedelta(days=30)))
    await automation.step()
    [incident] = await incidents(gql)
    started = (await gql(EVENT_STARTED, {"id": incident["id"]}))["data"]["event"]["startedAt"]
    assert datetime.fromisoformat(started) >= before - timedelta(seconds=60)


async def test_alerts_firing_when_a_person_resolved_stay_theirs(client: httpx.AsyncClient,
                                                                gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["API"]])
    await send(client, token, alert("x"))
    await automation.step()
    [first] = await incidents(gql)
    await gql(POST_UPDATE, {"input": {"eventId": first["id"], "status": "RESOLVED",
                                      "message": "Known noise; closing."}})
    await automation.step()
    await automation.run_timers()
    assert [i["status"] for i in await incidents(gql)] == ["RESOLVED"]  # x fires on

    # A new alert opens a new incident without x; its resolve resolves it though x fires.
    await send(client, token, alert("x"), alert("y"))
    await automation.step()
    second = next(i for i in await incidents(gql) if i["id"] != first["id"])
    assert "**y**" in second["updates"][0]["message"]
    assert "**x**" not in second["updates"][0]["message"]
    await send(client, token, alert("x"), alert("y", status="resolved"))
    await automation.step()
    assert [i["status"] for i in await incidents(gql)] == ["RESOLVED", "RESOLVED"]

    # Once x resolves and fires anew, it is automation's again.
    await send(client, token, alert("x", status="resolved"))
    await automation.step()
    await send(client, token, alert("x"))
    await automation.step()
    assert sorted(i["status"] for i in await incidents(gql)) == [
        "INVESTIGATING", "RESOLVED", "RESOLVED"]


async def test_after_a_person_took_over_the_hold_down_only_adds_notes(
        client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["API"]], resolveAfterSeconds=300)
    await send(client, token, alert("a"))
    await automation.step()
    [incident] = await incidents(gql)
    await gql(POST_UPDATE, {"input": {"eventId": incident["id"], "status": "IDENTIFIED",
                                      "message": "On it."}})
    await send(client, token, alert("a", status="resolved"))
    resolved = utcnow()
    await automation.step()
    await automation.run_timers(resolved + timedelta(seconds=301))
    [incident] = await incidents(gql)
    assert incident["status"] == "IDENTIFIED"
    assert (await statuses(gql))["API"] == "PARTIAL_OUTAGE"
    notes = [u["message"] for u in incident["updates"][2:]]
    assert len(notes) == 2 and "automatically" not in " ".join(notes)
    assert "stayed resolved for 300 s" in notes[1]


async def test_pruning_forgets_old_payloads_and_resolved_alerts_only(
        client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id)
    await make_rule(gql, page_id, componentIds=[ids["API"]])
    await send(client, token, alert("gone"), alert("on"))
    await send(client, token, alert("gone", status="resolved"), alert("on"))
    await automation.step()
    assert await automation.prune() == 0
    removed = await automation.prune(utcnow() + timedelta(days=8))
    assert removed == 3  # two payloads and the resolved alert
    assert await AlertState.filter(firing=True).values_list("key", flat=True) == ["on"]
