"""What is kept across requests — an item's past days (resolvers.daily_bars), the timelines of
components a change left alone, and the completed rows of past bars (schema.plain_fields) —
answers exactly what measuring every window afresh answers: the status-page query's bytes
stay the same across a change that leaves the spans alone, its figures equal one sweep of the
ledger per window, a retrospective event changes its past day at once, and a renamed component
is named anew in intervals of kept days."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from models import Component, StatusPage
from models.base import utcnow
from resolvers import availability as figures_module
from resolvers.availability import Reader, clear_cache, measure_windows
from resolvers.availability_timeline import page_ledger, to_us
from resolvers.daily_bars import local_days
from schema import availability as schema_availability
from tests.schema.test_availability_api import D, H, build_page, retrospective

QUERY = """
query($slug: String!) {
  page(slug: $slug) {
    status
    availability { ratio uptimeSeconds downtimeSeconds maintenanceSeconds totalSeconds }
    groups {
      name availability { ratio }
      dailyBars { date status eventIds availability { ratio } }
    }
    components {
      name status availability { ratio downtimeSeconds }
      dailyBars { date status eventIds availability { ratio downtimeSeconds } }
    }
  }
}"""
WITH_EVENTS = """
query($slug: String!) {
  page(slug: $slug) {
    components {
      dailyBars(days: 20) {  # covers the events (10 and 5 days ago); 30 is over the cost budget
        date events { id title }
        availability { ratio intervals { component { name } status eventIds } }
      }
    }
  }
}"""
MINUTE = timedelta(minutes=1)
UPDATE_COMPONENT = """
mutation($input: UpdateComponentInput!) {
  updateComponent(input: $input) { __typename }
}"""


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """One instant for every request of the test: answers compared byte for byte."""
    fixed = utcnow()
    monkeypatch.setattr(figures_module, "utcnow", lambda: fixed)
    monkeypatch.setattr(schema_availability, "utcnow", lambda: fixed)
    return fixed


async def raw(client: Any, token: str, query: str) -> bytes:
    response = await client.post("/graphql", json={"query": query,
                                                   "variables": {"slug": "acme"}},
                                 headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200 and b'"errors"' not in response.content, response.text
    content: bytes = response.content
    return content


async def one_sweep(now: datetime) -> dict[str, Any]:
    """The figures by measuring each window of the ledger once, nothing kept."""
    page = await StatusPage.get(slug="acme")
    components = await Component.filter(page_id=page.id).order_by("position")
    reader = Reader(now)
    days = local_days(page.time_zone, now, 90)
    edges = [to_us(start) for _, start, _ in days] + [to_us(now)]
    ledger = await page_ledger(page_id=page.id, sequence=int(page.sequence),
                               covering=to_us(now) - 92 * 86_400 * 10**6)
    found: dict[str, Any] = {"page": await reader.availability(page=page,
                                                              components=components)}
    for item, members in [("group", components), *((c.name, [c]) for c in components)]:
        found[item] = (await reader.availability(page=page, components=members),
                       measure_windows(ledger, members, edges))
    return found


def check(answer: dict[str, Any], expected: dict[str, Any]) -> None:
    page = answer["data"]["page"]
    whole = expected["page"]
    assert page["availability"] == {
        "ratio": whole.ratio, "uptimeSeconds": whole.uptime_us / 1e6,
        "downtimeSeconds": whole.downtime_us / 1e6,
        "maintenanceSeconds": whole.maintenance_us / 1e6, "totalSeconds": whole.total_us / 1e6}
    items = [("group", page["groups"][0]), *((c["name"], c) for c in page["components"])]
    for name, item in items:
        quarter, bars = expected[name]
        assert item["availability"]["ratio"] == quarter.ratio, name
        assert [(b["status"], b["eventIds"], b["availability"]["ratio"])
                for b in item["dailyBars"]] == [
            (f.worst.value if f.worst else None, f.event_ids, f.ratio) for f in bars], name
        if name != "group":
            assert item["availability"]["downtimeSeconds"] == quarter.downtime_us / 1e6
            assert [b["availability"]["downtimeSeconds"] for b in item["dailyBars"]] == [
                f.downtime_us / 1e6 for f in bars]


async def test_kept_days_answer_exactly_what_a_fresh_sweep_does(
        gql: Any, client: Any, admin_token: str, now: datetime) -> None:
    since = (now - 60 * D).replace(minute=30, second=0, microsecond=0)
    page_id, ids = await build_page(gql, ["API", "Web"], since, time_zone="Europe/Berlin")
    night = (now - 10 * D).replace(hour=21, minute=15)
    await retrospective(gql, page_id, "INCIDENT", "Night outage", [  # across midnight
        (night, "INVESTIGATING", {ids["API"]: "FULL_OUTAGE", ids["Web"]: "DEGRADED"}),
        (night + 3 * H, "MONITORING", {ids["API"]: "PARTIAL_OUTAGE"}),
        (night + 5 * H, "RESOLVED", {}),
    ])
    works = (now - 5 * D).replace(hour=20)
    await retrospective(gql, page_id, "MAINTENANCE", "Upgrade", [  # across midnight too
        (works, "IN_PROGRESS", {ids["Web"]: "UNDER_MAINTENANCE"}),
        (works + 6 * H, "COMPLETED", {}),
    ])
    await retrospective(gql, page_id, "INCIDENT", "Blip", [  # today (or late yesterday)
        (now - 50 * MINUTE, "INVESTIGATING", {ids["API"]: "DEGRADED"}),
        (now - 10 * MINUTE, "RESOLVED", {}),
    ])

    clear_cache()  # nothing kept: every day measured for this answer
    cold = await raw(client, admin_token, QUERY)
    check(json.loads(cold), await one_sweep(now))
    events_cold = await raw(client, admin_token, WITH_EVENTS)

    # A change that leaves every span alone: the page's sequence moves, the days are kept.
    await gql(UPDATE_COMPONENT, {"input": {"id": ids["Web"], "name": "Website"}})
    kept = await raw(client, admin_token, QUERY)
    assert kept == cold.replace(b'"name":"Web"', b'"name":"Website"')
    assert await raw(client, admin_token, QUERY) == kept  # completed rows reused
    with_events = json.loads(await raw(client, admin_token, WITH_EVENTS))
    assert json.loads(events_cold) != with_events  # only the name differs…
    names = {i["component"]["name"] for c in with_events["data"]["page"]["components"]
             for b in c["dailyBars"] for i in b["availability"]["intervals"]}
    assert names == {"API", "Website"}  # …and kept days name the component anew

    # A retrospective event on a past day: that day is measured again, at once.
    old = (now - 20 * D).replace(hour=12)
    added = await retrospective(gql, page_id, "INCIDENT", "Found later", [
        (old, "INVESTIGATING", {ids["API"]: "FULL_OUTAGE"}), (old + 2 * H, "RESOLVED", {})])
    after = json.loads(await raw(client, admin_token, QUERY))
    api = next(c for c in after["data"]["page"]["components"] if c["name"] == "API")
    assert any(b["eventIds"] == [added] and b["status"] == "FULL_OUTAGE"
               for b in api["dailyBars"])
    check(after, await one_sweep(now))
