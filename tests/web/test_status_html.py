"""The status page's read path: a change is rendered off the hot path (visitors meanwhile get
the previous page, never for long), concurrent visitors share one render, and the page stays
small: bars are compact and a bar's events are read on demand."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from resolvers.demo import load_demo
from web import readcache, status_html
from web.appstate import AppState

pytestmark = pytest.mark.usefixtures("db")

CREATE_INCIDENT = """
mutation($input: CreateIncidentInput!) {
  createIncident(input: $input) {
    __typename ... on CreateIncidentPayload { event { id } } ... on Error { code message }
  }
}
"""
CREATE_PAGE = """
mutation($input: CreatePageInput!) {
  createPage(input: $input) { __typename ... on CreatePagePayload { page { id slug } } }
}
"""
CREATE_COMPONENT = """
mutation($input: CreateComponentInput!) {
  createComponent(input: $input) { ... on CreateComponentPayload { component { id } } }
}
"""


async def component_id(name: str) -> str:
    from models import Component

    return str((await Component.get(name=name)).id)


def badge_of(html: str, item_id: str) -> str:
    """The status a component's row shows (its badge's data-status)."""
    found = re.search(rf'id="component-{item_id}".*?data-status="([A-Z_]*)"', html, re.S)
    assert found, f"no row for {item_id}"
    return found.group(1)


def bars_of(html: str, item_id: str) -> dict[str, str]:
    """The compact bars of one component or group: data-* attributes of its list."""
    found = re.search(rf'<ol class="bars"[^>]*data-item="{item_id}"[^>]*>', html)
    assert found, f"no bars for {item_id}"
    return dict(re.findall(r'data-([a-z]+)="([^"]*)"', found.group(0)))


async def outage(gql: Any, page_id: str, component: str, title: str = "API down") -> str:
    made = await gql(CREATE_INCIDENT, {"input": {
        "pageId": page_id, "title": title, "message": "Looking into it.", "notify": False,
        "components": [{"componentId": component, "impact": "FULL_OUTAGE"}]}})
    return str(made["data"]["createIncident"]["event"]["id"])


class Gate:
    """Holds every status page render until opened, and counts them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = asyncio.Event()
        self.open.set()
        self.started = asyncio.Event()
        self.renders = 0
        original = status_html.status_body

        async def gated(*args: Any, **kwargs: Any) -> bytes:
            self.renders += 1
            self.started.set()
            await self.open.wait()
            return await original(*args, **kwargs)

        monkeypatch.setattr(status_html, "status_body", gated)


async def test_concurrent_anonymous_visitors_share_one_render(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load_demo()
    gate = Gate(monkeypatch)
    responses = await asyncio.gather(*(client.get("/p/demo") for _ in range(8)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    assert gate.renders == 1


async def test_a_visitor_during_a_slow_render_gets_the_previous_page_at_once(
    client: Any, gql: Any, shared: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = await load_demo()
    api = await component_id("API")
    gate = Gate(monkeypatch)
    before = await client.get("/p/demo")
    assert badge_of(before.text, api) == "OPERATIONAL"

    await outage(gql, demo.id, api)
    gate.open.clear()  # the render of the new state hangs until we say so
    during = await asyncio.wait_for(client.get("/p/demo"), timeout=10)
    assert gate.started.is_set(), "the change started a render"
    assert during.status_code == 200
    assert during.text == before.text  # answered with the previous page, not made to wait
    summary = await asyncio.wait_for(client.get("/p/demo/api/v2/summary.json"), timeout=10)
    assert summary.status_code == 200  # other reads do not queue behind the render either

    gate.open.set()
    await shared.read_cache.idle()
    after = await client.get("/p/demo")
    assert badge_of(after.text, api) == "FULL_OUTAGE"
    assert "API down" in after.text


async def test_once_the_grace_is_over_visitors_wait_for_the_new_state(
    client: Any, gql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous page stands in only briefly after a change: past STALE_GRACE (here 0),
    a visitor gets the new state, however long its render takes."""
    demo = await load_demo()
    api = await component_id("API")
    await client.get("/p/demo")
    monkeypatch.setattr(readcache, "STALE_GRACE", 0.0)
    await outage(gql, demo.id, api)
    after = await client.get("/p/demo")
    assert badge_of(after.text, api) == "FULL_OUTAGE"
    summary = (await client.get("/p/demo/api/v2/summary.json")).json()
    assert {c["id"]: c["status"] for c in summary["components"]}[api] == "major_outage"


async def test_the_live_part_asked_for_a_sequence_is_never_older(client: Any, gql: Any) -> None:
    from models import StatusPage

    demo = await load_demo()
    await client.get(f"/p/demo/live?sequence={demo.sequence}")
    await outage(gql, demo.id, await component_id("API"), "Fresh events")
    sequence = (await StatusPage.get(id=demo.id)).sequence
    fragment = await client.get(f"/p/demo/live?sequence={sequence}")
    assert "Fresh events" in fragment.text


async def test_the_page_asked_for_a_sequence_is_never_older(client: Any, gql: Any) -> None:
    """live.js reloads the page after a layout change with the sequence it was pushed."""
    from models import StatusPage

    demo = await load_demo()
    api = await component_id("API")
    await client.get("/p/demo")
    await outage(gql, demo.id, api)
    sequence = (await StatusPage.get(id=demo.id)).sequence
    page = await client.get(f"/p/demo?sequence={sequence}")
    assert badge_of(page.text, api) == "FULL_OUTAGE"


async def test_bars_are_compact_and_show_each_days_status(client: Any, gql: Any) -> None:
    demo = await load_demo()
    api = await component_id("API")
    await outage(gql, demo.id, api)
    html = (await client.get("/p/demo")).text
    bars = bars_of(html, api)
    assert len(bars["days"]) == 90 and bars["days"][-1] == "f"  # today: a full outage
    assert set(bars["days"]) <= set("odpfm-")
    assert len(bars["ratios"].split(",")) == 90 and bars["events"][-1] == "1"
    # bare days (colour only, for pages read without JavaScript): no tooltips in the page
    assert 'class="tip"' not in html and "available" not in html
    assert len(html) < 60_000  # it was 218 KB with 90 verbose elements per row


async def test_a_bars_details_name_the_events_of_that_day(client: Any, gql: Any) -> None:
    from datetime import date

    demo = await load_demo()
    api = await component_id("API")
    await outage(gql, demo.id, api, "Elevated errors")
    bars = bars_of((await client.get("/p/demo")).text, api)
    today = date.fromisoformat(bars["first"]).toordinal() + len(bars["days"]) - 1
    day = date.fromordinal(today).isoformat()
    response = await client.get(f"/p/demo/bars/{api}/{day}")
    assert response.status_code == 200
    details = response.json()
    assert details["date"] == day and details["status"] == "FULL_OUTAGE"
    assert [(e["kind"], e["title"]) for e in details["events"]] == [
        ("INCIDENT", "Elevated errors")]
    unknown = await client.get(f"/p/demo/bars/{api}/1999-01-01")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


async def test_bar_details_of_an_internal_page_are_a_404_to_anonymous_visitors(
    client: Any, gql: Any, admin_token: str
) -> None:
    made = await gql(CREATE_PAGE, {"input": {"slug": "staff", "name": "Staff",
                                             "visibility": "INTERNAL"}})
    page_id = made["data"]["createPage"]["page"]["id"]
    component = await gql(CREATE_COMPONENT, {"input": {"pageId": page_id, "name": "Vault"}})
    vault = component["data"]["createComponent"]["component"]["id"]
    await outage(gql, page_id, vault, "Secret outage")
    member = await client.get("/p/staff", headers={"authorization": f"Bearer {admin_token}"})
    bars = bars_of(member.text, vault)
    from datetime import date

    day = date.fromordinal(date.fromisoformat(bars["first"]).toordinal() + 89).isoformat()
    url = f"/p/staff/bars/{vault}/{day}"
    signed_in = await client.get(url, headers={"authorization": f"Bearer {admin_token}"})
    assert [e["title"] for e in signed_in.json()["events"]] == ["Secret outage"]
    anonymous = await client.get(url)
    unknown = await client.get(f"/p/nosuch/bars/{vault}/{day}")
    assert anonymous.status_code == unknown.status_code == 404
    assert anonymous.content == unknown.content
    assert "Secret" not in anonymous.text and json.loads(anonymous.text)["error"] == "not_found"


async def test_a_change_read_back_from_the_database_is_served_at_once(
    client: Any, shared: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change committed by another process is learned from the page's sequence, re-read up
    to a second late: no previous body stands in for it then."""
    from tortoise.expressions import F

    from models import StatusPage

    demo = await load_demo()
    assert "Heliograph Demo" in (await client.get("/p/demo")).text
    assert (await client.get("/p/demo/api/v2/summary.json")).json()["page"]["name"] \
        == "Heliograph Demo"
    # as another process would: committed, but never announced to this one
    await StatusPage.filter(id=demo.id).update(name="Renamed Elsewhere",
                                               sequence=F("sequence") + 1)
    monkeypatch.setattr(shared.read_cache, "refresh", 0.0)  # the once-a-second re-read is due
    summary = (await client.get("/p/demo/api/v2/summary.json")).json()
    assert summary["page"]["name"] == "Renamed Elsewhere"
    assert "Renamed Elsewhere" in (await client.get("/p/demo")).text
