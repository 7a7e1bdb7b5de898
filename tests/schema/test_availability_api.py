"""Availability over GraphQL: figures of components, groups and pages, the intervals and events
behind them, daily bars, refusals, history edits taking effect at once, and query counts that
do not grow with the number of components."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from models import Component, ComponentGroup, Event, ImpactSpan, StatusPage
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventStatus
from resolvers.availability import clear_cache
from web.appstate import AppState

H = timedelta(hours=1)
D = timedelta(days=1)
HOUR = 3600.0

CREATE_PAGE = """
mutation($input: CreatePageInput!) {
  createPage(input: $input) { ... on CreatePagePayload { page { id } } ... on Error { code } }
}"""
CREATE_GROUP = """
mutation($input: CreateComponentGroupInput!) {
  createComponentGroup(input: $input) {
    ... on CreateComponentGroupPayload { group { id } } ... on Error { code }
  }
}"""
CREATE_COMPONENT = """
mutation($input: CreateComponentInput!) {
  createComponent(input: $input) {
    ... on CreateComponentPayload { component { id } } ... on Error { code message }
  }
}"""
RETROSPECTIVE = """
mutation($input: CreateRetrospectiveEventInput!) {
  createRetrospectiveEvent(input: $input) {
    __typename
    ... on CreateRetrospectiveEventPayload { event { id } }
    ... on Error { code message field }
  }
}"""
EDIT_UPDATE = """
mutation($input: EditEventUpdateInput!) {
  editEventUpdate(input: $input) {
    __typename ... on EditEventUpdatePayload { update { id at } } ... on Error { code message }
  }
}"""
EVENT_UPDATES = """
query($id: ID!) { event(id: $id) { updates { id status } } }"""
DELETE_EVENT = """
mutation($input: DeleteEventInput!) {
  deleteEvent(input: $input) {
    __typename ... on DeleteEventPayload { deletedEventId } ... on Error { code message }
  }
}"""
FIGURES = """
fragment figures on Availability {
  ratio uptimeSeconds downtimeSeconds maintenanceSeconds totalSeconds start end
}"""
COMPONENT_AVAILABILITY = FIGURES + """
query($slug: String!, $from: DateTime, $to: DateTime) {
  page(slug: $slug) {
    availability(from: $from, to: $to) { ...figures }
    groups { name availability(from: $from, to: $to) { ...figures } }
    components {
      name
      availability(from: $from, to: $to) {
        ...figures
        intervals { componentId component { name } start end status eventIds events { id title } }
      }
    }
  }
}"""
BARS = """
query($slug: String!, $days: Int!) {
  page(slug: $slug) {
    components {
      name
      dailyBars(days: $days) {
        date status eventIds events { id title }
        availability { ratio totalSeconds downtimeSeconds }
      }
    }
    groups { dailyBars(days: $days) { date status availability { ratio } } }
  }
}"""
EVERYTHING = """
query($slug: String!) {
  page(slug: $slug) {
    availability { ratio intervals { componentId status eventIds events { id } } }
    groups {
      availability { ratio totalSeconds }
      dailyBars { date status eventIds events { id } availability { ratio } }
    }
    components {
      availability { ratio intervals { component { name } status events { id } } }
      dailyBars { date status eventIds events { id } availability { ratio downtimeSeconds } }
    }
  }
}"""


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def build_page(gql: Any, names: list[str], since: datetime,
                     time_zone: str = "UTC") -> tuple[str, dict[str, str]]:
    page = (await gql(CREATE_PAGE, {"input": {"slug": "acme", "name": "Acme",
                                              "timeZone": time_zone}}))["data"]["createPage"]
    group = (await gql(CREATE_GROUP, {"input": {"pageId": page["page"]["id"], "name": "Core"}}))[
        "data"]["createComponentGroup"]["group"]["id"]
    ids = {}
    for name in names:
        created = (await gql(CREATE_COMPONENT, {"input": {
            "pageId": page["page"]["id"], "name": name, "groupId": group,
            "since": iso(since)}}))["data"]["createComponent"]
        ids[name] = created["component"]["id"]
    return page["page"]["id"], ids


async def retrospective(gql: Any, page_id: str, kind: str, title: str,
                        steps: list[tuple[datetime, str, dict[str, str]]]) -> str:
    """A retrospective event from (at, status, {component id: impact}) steps."""
    updates = [{"at": iso(at), "status": status, "message": f"{title}: {status}",
                "components": [{"componentId": c, "impact": i} for c, i in impacts.items()]}
               for at, status, impacts in steps]
    body = await gql(RETROSPECTIVE, {"input": {
        "pageId": page_id, "kind": kind, "title": title, "startedAt": iso(steps[0][0]),
        "endedAt": iso(steps[-1][0]), "components": updates[0]["components"],
        "updates": updates}})
    result = body["data"]["createRetrospectiveEvent"]
    assert result["__typename"] == "CreateRetrospectiveEventPayload", result
    return str(result["event"]["id"])


async def test_the_worked_example_through_published_history(gql: Any) -> None:
    since = (utcnow() - 20 * D).replace(minute=0, second=0, microsecond=0)
    page_id, ids = await build_page(gql, ["API", "Web"], since)
    api = ids["API"]
    day = since + 3 * D
    full = await retrospective(gql, page_id, "INCIDENT", "Outage", [
        (day, "INVESTIGATING", {api: "FULL_OUTAGE"}),
        (day + 2 * H, "MONITORING", {api: "PARTIAL_OUTAGE"}),  # 2 h full
        (day + 3 * H, "RESOLVED", {}),  # 1 h partial
    ])
    await retrospective(gql, page_id, "INCIDENT", "Slow", [
        (day + 5 * H, "IDENTIFIED", {api: "DEGRADED"}),
        (day + 8 * H, "RESOLVED", {}),  # 3 h degraded
    ])
    works = await retrospective(gql, page_id, "MAINTENANCE", "Upgrade", [
        (day + 10 * H, "IN_PROGRESS", {api: "UNDER_MAINTENANCE"}),
        (day + 14 * H, "COMPLETED", {}),  # 4 h maintenance
    ])
    window = {"slug": "acme", "from": iso(since - 5 * D), "to": iso(since + 10 * D)}

    page = (await gql(COMPONENT_AVAILABILITY, window, token=""))["data"]["page"]

    by_name = {c["name"]: c["availability"] for c in page["components"]}
    figures = by_name["API"]
    assert figures["totalSeconds"] == 240 * HOUR  # clipped to `since`
    assert figures["maintenanceSeconds"] == 4 * HOUR
    assert figures["downtimeSeconds"] == 3 * HOUR
    assert figures["uptimeSeconds"] == 233 * HOUR
    assert figures["ratio"] == 233 / 236
    assert datetime.fromisoformat(figures["start"]) == since
    intervals = figures["intervals"]
    assert [i["status"] for i in intervals] == [
        "OPERATIONAL", "FULL_OUTAGE", "PARTIAL_OUTAGE", "OPERATIONAL", "DEGRADED",
        "OPERATIONAL", "UNDER_MAINTENANCE", "OPERATIONAL"]
    assert all(a["end"] == b["start"] for a, b in pairwise(intervals))
    assert {i["component"]["name"] for i in intervals} == {"API"}
    assert intervals[1]["eventIds"] == [full] and intervals[1]["events"][0]["title"] == "Outage"
    assert intervals[6]["events"] == [{"id": works, "title": "Upgrade"}]
    assert by_name["Web"]["ratio"] == 1.0 and by_name["Web"]["intervals"][0]["eventIds"] == []
    # Group and page: Σ uptime / Σ (total − maintenance) over API and Web.
    expected = (233 + 240) / (236 + 240)
    assert page["groups"][0]["availability"]["ratio"] == expected
    assert page["availability"]["ratio"] == expected
    assert page["availability"]["totalSeconds"] == 480 * HOUR


async def test_editing_and_deleting_an_event_change_the_figures_at_once(gql: Any) -> None:
    since = (utcnow() - 20 * D).replace(minute=0, second=0, microsecond=0)
    page_id, ids = await build_page(gql, ["API"], since)
    window = {"slug": "acme", "from": iso(since), "to": iso(since + 10 * D)}
    before = (await gql(COMPONENT_AVAILABILITY, window))["data"]["page"]["availability"]
    assert before["ratio"] == 1.0

    event = await retrospective(gql, page_id, "INCIDENT", "Outage", [
        (since + D, "INVESTIGATING", {ids["API"]: "FULL_OUTAGE"}),
        (since + D + 12 * H, "MONITORING", {ids["API"]: "DEGRADED"}),
        (since + D + 13 * H, "RESOLVED", {}),
    ])
    during = (await gql(COMPONENT_AVAILABILITY, window))["data"]["page"]["availability"]
    assert during["downtimeSeconds"] == 12 * HOUR and during["ratio"] == 228 / 240

    updates = (await gql(EVENT_UPDATES, {"id": event}))["data"]["event"]["updates"]
    monitoring = next(u["id"] for u in updates if u["status"] == "MONITORING")
    edited = (await gql(EDIT_UPDATE, {"input": {"updateId": monitoring,
                                                "at": iso(since + D + 6 * H)}}))
    assert edited["data"]["editEventUpdate"]["__typename"] == "EditEventUpdatePayload", edited
    shorter = (await gql(COMPONENT_AVAILABILITY, window))["data"]["page"]["availability"]
    assert shorter["downtimeSeconds"] == 6 * HOUR and shorter["ratio"] == 234 / 240

    deleted = (await gql(DELETE_EVENT, {"input": {"eventId": event}}))["data"]["deleteEvent"]
    assert deleted["__typename"] == "DeleteEventPayload"
    after = (await gql(COMPONENT_AVAILABILITY, window))["data"]["page"]["availability"]
    assert after["ratio"] == 1.0 and after["downtimeSeconds"] == 0


async def test_daily_bars_end_today_in_the_page_zone(gql: Any) -> None:
    since = utcnow() - 2 * D
    page_id, ids = await build_page(gql, ["API"], since, time_zone="Asia/Tokyo")
    start = (utcnow() - 30 * H).replace(microsecond=0)
    event = await retrospective(gql, page_id, "INCIDENT", "Outage", [
        (start, "INVESTIGATING", {ids["API"]: "PARTIAL_OUTAGE"}),
        (start + H, "RESOLVED", {}),
    ])

    page = (await gql(BARS, {"slug": "acme", "days": 5}, token=""))["data"]["page"]

    bars = page["components"][0]["dailyBars"]
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    assert [b["date"] for b in bars] == [str(today - n * D) for n in range(4, -1, -1)]
    assert [b["status"] for b in bars[:2]] == [None, None]  # before `since`
    assert bars[0]["availability"]["ratio"] is None
    assert bars[0]["availability"]["totalSeconds"] == 0
    touched = [b for b in bars if b["eventIds"]]
    assert [b["status"] for b in touched] in (["PARTIAL_OUTAGE"],
                                              ["PARTIAL_OUTAGE", "PARTIAL_OUTAGE"])
    assert all(b["events"] == [{"id": event, "title": "Outage"}] for b in touched)
    assert sum(b["availability"]["downtimeSeconds"] for b in bars) == HOUR
    assert [b["date"] for b in page["groups"][0]["dailyBars"]] == [b["date"] for b in bars]


async def test_out_of_range_days_and_empty_windows_are_refused(gql: Any) -> None:
    await build_page(gql, ["API"], utcnow() - D)
    body = await gql(BARS, {"slug": "acme", "days": 0}, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "INVALID"
    assert body["errors"][0]["extensions"]["field"] == "days"
    body = await gql(BARS, {"slug": "acme", "days": 367}, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "INVALID"
    moment = iso(utcnow() - D)
    body = await gql(COMPONENT_AVAILABILITY, {"slug": "acme", "from": moment, "to": moment},
                     expect_errors=True)
    assert {e["extensions"]["code"] for e in body["errors"]} == {"INVALID"}
    assert body["data"] is None or body["data"]["page"] is None


# ---- query counts -------------------------------------------------------------------------------


class QueryLog(logging.Handler):
    """Collects the SQL statements tortoise logs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lstrip()
        if message.split(" ", 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
            self.statements.append(message)


@contextmanager
def logged_queries() -> Iterator[QueryLog]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = QueryLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def seed_page(slug: str, components: int, groups: int) -> None:
    """A page with components spread over groups, each with an outage and a maintenance."""
    now = utcnow()
    page = await StatusPage.create(slug=slug, name=slug)
    made_groups = [await ComponentGroup.create(page_id=page.id, name=f"G{g}", position=g)
                   for g in range(groups)]
    for n in range(components):
        component = await Component.create(page_id=page.id, name=f"C{n}", position=n,
                                           group_id=made_groups[n % groups].id,
                                           since=now - 100 * D)
        for kind, status, offset in ((EventKind.INCIDENT, ComponentStatus.FULL_OUTAGE, 3),
                                     (EventKind.MAINTENANCE, ComponentStatus.UNDER_MAINTENANCE,
                                      40)):
            event = await Event.create(page_id=page.id, kind=kind, title=f"{status} {n}",
                                       status=EventStatus.RESOLVED)
            await ImpactSpan.create(page_id=page.id, event_id=event.id,
                                    component_id=component.id, status=status,
                                    start=now - offset * D, end=now - offset * D + 2 * H)


async def test_query_count_does_not_grow_with_the_number_of_components(
        gql: Any, shared: AppState) -> None:
    await seed_page("small", components=2, groups=1)
    await seed_page("large", components=20, groups=4)
    counts = {}
    for slug in ("small", "large"):
        for cache in ("cold", "warm"):
            if cache == "cold":
                clear_cache()
            # This counts the resolvers' statements: keep the HTTP-level cache of anonymous
            # reads (web.graphql_cache, tested in tests/web/test_graphql_cache.py) out of it.
            shared.graphql_cache.clear()
            shared.read_cache.clear()
            with logged_queries() as log:
                body = await gql(EVERYTHING, {"slug": slug}, token="")
            page = body["data"]["page"]
            assert len(page["components"]) in (2, 20)
            assert all(len(c["dailyBars"]) == 90 for c in page["components"])
            assert all(b["events"] for b in page["components"][0]["dailyBars"]
                       if b["eventIds"])
            # The host → page map (web.domains, re-read once a second) is no resolver's.
            counts[(slug, cache)] = sum('"page_domain"' not in q for q in log.statements)
            ledger_reads = sum('"impact_span"' in q for q in log.statements)
            assert ledger_reads == (1 if cache == "cold" else 0)
    assert counts[("small", "cold")] == counts[("large", "cold")]
    assert counts[("small", "warm")] == counts[("large", "warm")]
    # The warm request reads the ledger from the in-process cache: one statement fewer.
    assert counts[("large", "warm")] == counts[("large", "cold")] - 1
