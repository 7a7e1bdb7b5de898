"""Shared set-up for the automation tests: GraphQL documents, a page with an integration and a
rule made through the API, payload builders, and what a page shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

CREATE_INTEGRATION = """
mutation($input: CreateIntegrationInput!) {
  createIntegration(input: $input) {
    __typename
    ... on CreateIntegrationPayload { token integration { id name kind webhookUrl } }
    ... on Error { code message field }
  }
}"""
REVOKE_INTEGRATION = """
mutation($input: RevokeIntegrationInput!) {
  revokeIntegration(input: $input) {
    __typename
    ... on RevokeIntegrationPayload { integration { id revokedAt } }
    ... on Error { code message field }
  }
}"""
CREATE_RULE = """
mutation($input: CreateAutomationRuleInput!) {
  createAutomationRule(input: $input) {
    __typename
    ... on CreateAutomationRulePayload { rule { id name impact componentIds } }
    ... on Error { code message field }
  }
}"""
UPDATE_RULE = """
mutation($input: UpdateAutomationRuleInput!) {
  updateAutomationRule(input: $input) {
    __typename
    ... on UpdateAutomationRulePayload { rule { id name openAfterSeconds humanWins } }
    ... on Error { code message field }
  }
}"""
DELETE_RULE = """
mutation($input: DeleteAutomationRuleInput!) {
  deleteAutomationRule(input: $input) {
    __typename
    ... on DeleteAutomationRulePayload { deletedRuleId }
    ... on Error { code message field }
  }
}"""
RULES = """
query($pageId: ID!) {
  automationRules(pageId: $pageId) {
    id name matchers { label op value } impactMap { value impact } incident { id status }
  }
  integrations(pageId: $pageId) { id name kind revokedAt }
}"""
PAGE_EVENTS = """
query($slug: String!) {
  page(slug: $slug) {
    sequence
    components { id name status }
    events(kind: INCIDENT) {
      nodes {
        id title status
        components { impact component { name } }
        updates { at status message automatic notify components { impact component { name } } }
      }
    }
  }
}"""
CREATE_PAGE = """
mutation($input: CreatePageInput!) {
  createPage(input: $input) { ... on CreatePagePayload { page { id slug } } }
}"""
CREATE_COMPONENT = """
mutation($input: CreateComponentInput!) {
  createComponent(input: $input) { ... on CreateComponentPayload { component { id name } } }
}"""
POST_UPDATE = """
mutation($input: PostEventUpdateInput!) {
  postEventUpdate(input: $input) { __typename ... on Error { code message } }
}"""


async def make_page(gql: Any, slug: str = "acme",
                    names: tuple[str, ...] = ("API", "Web", "DB")) -> tuple[str, dict[str, str]]:
    """A page with components (counted from a year ago), made through the API."""
    body = await gql(CREATE_PAGE, {"input": {"slug": slug, "name": slug.title()}})
    page_id = body["data"]["createPage"]["page"]["id"]
    ids = {}
    for name in names:
        made = await gql(CREATE_COMPONENT, {"input": {
            "pageId": page_id, "name": name, "since": "2020-01-01T00:00:00Z"}})
        ids[name] = made["data"]["createComponent"]["component"]["id"]
    return page_id, ids


async def make_integration(gql: Any, page_id: str, kind: str = "ALERTMANAGER",
                           name: str = "Prometheus") -> tuple[str, str]:
    """(integration id, its token)."""
    body = await gql(CREATE_INTEGRATION, {"input": {"pageId": page_id, "name": name,
                                                    "kind": kind}})
    made = body["data"]["createIntegration"]
    assert made["__typename"] == "CreateIntegrationPayload", made
    return made["integration"]["id"], made["token"]


async def make_rule(gql: Any, page_id: str, **fields: Any) -> str:
    body = await gql(CREATE_RULE, {"input": {"pageId": page_id, "name": "rule",
                                             "impact": "PARTIAL_OUTAGE", **fields}})
    made = body["data"]["createAutomationRule"]
    assert made["__typename"] == "CreateAutomationRulePayload", made
    return str(made["rule"]["id"])


async def incidents(gql: Any, slug: str = "acme") -> list[dict[str, Any]]:
    body = await gql(PAGE_EVENTS, {"slug": slug}, token="")
    return list(body["data"]["page"]["events"]["nodes"])


async def page_state(gql: Any, slug: str = "acme") -> dict[str, Any]:
    body = await gql(PAGE_EVENTS, {"slug": slug}, token="")
    return dict(body["data"]["page"])


async def statuses(gql: Any, slug: str = "acme") -> dict[str, str]:
    page = await page_state(gql, slug)
    return {c["name"]: c["status"] for c in page["components"]}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def am_alert(fingerprint: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    """One alert as Alertmanager's webhook sends it."""
    return {
        "status": status,
        "labels": {"alertname": "HighErrorRate", **labels},
        "annotations": {"summary": f"Errors on {labels.get('service', 'the API')}",
                        "description": "5xx above 5% for 5 minutes"},
        "startsAt": "2026-01-01T10:00:00.123456789Z" if status == "firing" else
                    "2026-01-01T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-01-01T10:30:00Z",
        "generatorURL": "http://prometheus.example/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def am_payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4) for a group of alerts."""
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved", "receiver": "heliograph",
        "groupLabels": {"alertname": "HighErrorRate"}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager.example",
        "alerts": list(alerts),
    }


def grafana_payload(fingerprint: str, status: str = "firing",
                    **labels: str) -> dict[str, Any]:
    """Grafana alerting's webhook body (contact point of type webhook)."""
    alert = {
        "status": status, "labels": {"alertname": "DiskFull", **labels},
        "annotations": {"summary": "Disk almost full"},
        "startsAt": "2026-01-01T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-01-01T11:00:00Z",
        "generatorURL": "http://grafana.example/alerting/grafana/abc/view",
        "fingerprint": fingerprint, "silenceURL": "http://grafana.example/alerting/silence",
        "dashboardURL": "", "panelURL": "", "values": {"B": 97.5}, "valueString": "B=97.5",
    }
    return {
        "receiver": "heliograph", "status": status, "orgId": 1, "alerts": [alert],
        "groupLabels": {"alertname": "DiskFull"}, "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"], "externalURL": "http://grafana.example/",
        "version": "1", "groupKey": "{}:{alertname=\"DiskFull\"}", "truncatedAlerts": 0,
        "orgId_": 1, "title": f"[{status.upper()}:1] DiskFull", "state": "alerting",
        "message": "**Firing**",
    }


async def table_counts() -> dict[str, int]:
    """Rows in every table and the pages' sequences: what "nothing was written" compares."""
    from tortoise import Tortoise, connections

    tables = sorted(m._meta.db_table for m in Tortoise.apps["heliograph"].values())
    parts = [f'(SELECT COUNT(*) FROM "{t}")' for t in tables]
    parts.append('(SELECT COALESCE(SUM(sequence), 0) FROM "status_page")')
    _, rows = await connections.get("default").execute_query("SELECT " + ", ".join(parts))
    return dict(zip([*tables, "sequence"], (int(rows[0][i]) for i in range(len(parts))),
                    strict=True))
