"""Events over GraphQL: an incident walked through its lifecycle, reading it back, the
events connection, and the announce hook."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from models import AuditEntry, ImpactSpan, NotificationJob, StatusPage, User
from models.base import utcnow
from realtime import PageChange, hub
from tests.helpers.events import (
    CREATE_INCIDENT,
    DELETE_EVENT,
    EVENT,
    POST_UPDATE,
    SCHEDULE,
    make_page,
    statuses,
)

EVENTS = """
query($slug: String!, $state: EventState, $kind: EventKind, $first: Int!, $after: String) {
  page(slug: $slug) {
    events(state: $state, kind: $kind, first: $first, after: $after) {
      edges { cursor node { id title status } }
      nodes { id }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


async def test_incident_through_all_four_statuses_moves_component_statuses(
    gql: Any, admin: User
) -> None:
    _, page, ids = await make_page(admin)
    api, web, db = ids["API"], ids["Web"], ids["DB"]
    seen: list[PageChange] = []
    remove = hub.add_local_listener(seen.append)
    try:
        body = await gql(CREATE_INCIDENT, {"input": {
            "pageId": page.id, "title": "API errors", "message": "Investigating.",
            "components": [{"componentId": api, "impact": "PARTIAL_OUTAGE"}]}})
        event = body["data"]["createIncident"]["event"]
        assert event["status"] == "INVESTIGATING" and event["kind"] == "INCIDENT"
        assert await statuses(gql) == {"API": "PARTIAL_OUTAGE", "Web": "OPERATIONAL",
                                       "DB": "OPERATIONAL"}
        steps = [
            ("IDENTIFIED", [(api, "FULL_OUTAGE"), (web, "DEGRADED")],
             {"API": "FULL_OUTAGE", "Web": "DEGRADED", "DB": "OPERATIONAL"}),
            ("MONITORING", [(api, "OPERATIONAL"), (db, "DEGRADED")],
             {"API": "OPERATIONAL", "Web": "DEGRADED", "DB": "DEGRADED"}),
            ("RESOLVED", [],
             {"API": "OPERATIONAL", "Web": "OPERATIONAL", "DB": "OPERATIONAL"}),
        ]
        for status, impacts, expected in steps:
            body = await gql(POST_UPDATE, {"input": {
                "eventId": event["id"], "status": status, "message": f"Now {status}.",
                "components": [{"componentId": c, "impact": i} for c, i in impacts]}})
            result = body["data"]["postEventUpdate"]
            assert result["__typename"] == "PostEventUpdatePayload", result
            assert result["event"]["status"] == status
            assert [i["impact"] for i in result["update"]["components"]] == [
                i for _, i in impacts]
            assert await statuses(gql) == expected, status
    finally:
        remove()

    read = (await gql(EVENT, {"id": event["id"]}, token=""))["data"]["event"]
    assert [u["status"] for u in read["updates"]] == [
        "INVESTIGATING", "IDENTIFIED", "MONITORING", "RESOLVED"]
    assert read["endedAt"] is not None and read["startedAt"] == read["updates"][0]["at"]
    assert {c["component"]["name"]: c["impact"] for c in read["components"]} == {
        "API": "OPERATIONAL", "Web": "OPERATIONAL", "DB": "OPERATIONAL"}
    assert datetime.fromisoformat(read["startedAt"]).utcoffset() == timedelta(0)
    # Every span is closed by the resolution; each publication notified and was audited.
    assert await ImpactSpan.filter(end__isnull=True).count() == 0
    assert await ImpactSpan.filter(component_id=api).count() == 2  # partial, then full
    assert await NotificationJob.all().count() == 4
    assert await AuditEntry.filter(action__startswith="event.").count() == 4
    # One signal per write, in sequence order, naming what changed.
    kinds = [c.kind for c in seen]
    assert kinds == ["EVENT_PUBLISHED", "EVENT_UPDATED", "EVENT_UPDATED", "EVENT_UPDATED"]
    sequences = [c.sequence for c in seen]
    assert sequences == sorted(sequences) and len(set(sequences)) == 4
    assert (await StatusPage.get(id=page.id)).sequence == sequences[-1]
    assert seen[1].component_ids == tuple(sorted((api, web)))
    assert all(c.event_id == event["id"] for c in seen)


async def test_event_query_hides_internal_pages_and_unknown_ids(gql: Any, admin: User) -> None:
    actor, page, _ = await make_page(admin)
    from models.enums import Visibility
    from resolvers import page as pages

    await pages.update_page(actor=actor, page_id=page.id, visibility=Visibility.INTERNAL)
    created = (await gql(CREATE_INCIDENT, {"input": {
        "pageId": page.id, "title": "Down", "message": "x"}}))["data"]["createIncident"]
    event_id = created["event"]["id"]
    assert (await gql(EVENT, {"id": event_id}, token=""))["data"]["event"] is None
    assert (await gql(EVENT, {"id": "nope"}))["data"]["event"] is None
    assert (await gql(EVENT, {"id": event_id}))["data"]["event"]["title"] == "Down"


async def test_events_connection_filters_orders_and_pages(gql: Any, admin: User) -> None:
    _, page, _ = await make_page(admin)
    made = []
    for index in range(5):
        started = (utcnow() - timedelta(hours=10 - index)).isoformat()
        body = await gql(CREATE_INCIDENT, {"input": {
            "pageId": page.id, "title": f"I{index}", "message": "m", "startedAt": started}})
        made.append(body["data"]["createIncident"]["event"]["id"])
    await gql(POST_UPDATE, {"input": {"eventId": made[0], "status": "RESOLVED",
                                      "message": "ok"}})
    soon = utcnow() + timedelta(days=2)
    for hours in (5, 1):
        await gql(SCHEDULE, {"input": {
            "pageId": page.id, "title": f"M{hours}", "message": "m",
            "scheduledStart": (soon + timedelta(hours=hours)).isoformat(),
            "scheduledEnd": (soon + timedelta(hours=hours + 1)).isoformat()}})

    async def titles(state: str | None, first: int = 10, after: str | None = None,
                     kind: str | None = None) -> tuple[list[str], dict[str, Any]]:
        body = await gql(EVENTS, {"slug": "acme", "state": state, "first": first,
                                  "after": after, "kind": kind}, token="")
        conn = body["data"]["page"]["events"]
        assert [n["id"] for n in conn["nodes"]] == [e["node"]["id"] for e in conn["edges"]]
        return [e["node"]["title"] for e in conn["edges"]], conn["pageInfo"]

    assert (await titles("ACTIVE"))[0] == ["I4", "I3", "I2", "I1"]
    assert (await titles("PAST"))[0] == ["I0"]
    assert (await titles("UPCOMING"))[0] == ["M1", "M5"]
    assert len((await titles(None))[0]) == 7
    assert (await titles(None, kind="MAINTENANCE"))[0] == ["M1", "M5"]  # newest created first
    first_page, info = await titles("ACTIVE", first=3)
    assert first_page == ["I4", "I3", "I2"] and info["hasNextPage"] is True
    rest, info = await titles("ACTIVE", first=3, after=info["endCursor"])
    assert rest == ["I1"] and info["hasNextPage"] is False

    too_many = await gql(EVENTS, {"slug": "acme", "first": 101}, expect_errors=True)
    assert too_many["errors"][0]["extensions"]["code"] == "INVALID"
    bad = await gql(EVENTS, {"slug": "acme", "first": 1, "after": "garbage!"},
                    expect_errors=True)
    assert bad["errors"][0]["extensions"]["code"] == "INVALID"


async def test_delete_event_removes_it_from_status_and_figures(gql: Any, admin: User) -> None:
    _, page, ids = await make_page(admin)
    created = (await gql(CREATE_INCIDENT, {"input": {
        "pageId": page.id, "title": "Down", "message": "x",
        "components": [{"componentId": ids["DB"], "impact": "FULL_OUTAGE"}]}}))
    event_id = created["data"]["createIncident"]["event"]["id"]
    assert (await statuses(gql))["DB"] == "FULL_OUTAGE"
    body = await gql(DELETE_EVENT, {"input": {"eventId": event_id}})
    assert body["data"]["deleteEvent"] == {"__typename": "DeleteEventPayload",
                                           "deletedEventId": event_id}
    assert (await statuses(gql))["DB"] == "OPERATIONAL"
    assert await ImpactSpan.all().count() == 0
    assert (await gql(EVENT, {"id": event_id}))["data"]["event"] is None
    entry = await AuditEntry.filter(action="event.delete").get()
    assert entry.target_id == event_id and entry.actor_id == admin.id


FULL_EVENTS = """
query($slug: String!) {
  page(slug: $slug) {
    events(first: 50) {
      nodes { id title page { slug }
              components { impact component { name status } }
              updates { at status components { impact component { name } } } }
    }
  }
}"""


async def test_page_events_is_not_n_plus_one(gql: Any, admin: User, caplog: Any) -> None:
    import logging

    from models.enums import ComponentStatus, EventStatus
    from resolvers import event as events

    actor, page, ids = await make_page(admin)

    async def publish(count: int) -> None:
        for index in range(count):
            event = await events.create_incident(
                actor=actor, page_id=page.id, title=f"I{index}", message="m",
                components=[(ids["API"], ComponentStatus.DEGRADED)])
            await events.post_event_update(
                actor=actor, event_id=event.id, status=EventStatus.MONITORING, message="m",
                components=[(ids["Web"], ComponentStatus.PARTIAL_OUTAGE)])

    async def queries() -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            body = await gql(FULL_EVENTS, {"slug": "acme"}, token="")
        assert body["data"]["page"]["events"]["nodes"]
        # The host → page map (web.domains, re-read once a second) is no resolver's.
        return sum(1 for r in caplog.records if r.name == "tortoise.db_client"
                   and "SELECT" in r.getMessage().upper() and "page_domain" not in r.getMessage())

    await publish(2)
    few = await queries()
    assert 0 < few <= 12, few  # the page, its events, updates, impacts, components, …
    await publish(18)
    assert len((await gql(FULL_EVENTS, {"slug": "acme"}))["data"]["page"]["events"][
        "nodes"]) == 20
    assert await queries() == few


async def test_pagination_is_stable_when_events_share_a_time(gql: Any, admin: User) -> None:
    _, page, _ = await make_page(admin)
    same = (utcnow() - timedelta(hours=1)).isoformat()
    for index in range(5):
        await gql(CREATE_INCIDENT, {"input": {"pageId": page.id, "title": f"I{index}",
                                              "message": "m", "startedAt": same}})
    seen: list[str] = []
    after = None
    while True:
        body = await gql(EVENTS, {"slug": "acme", "state": "ACTIVE", "first": 2,
                                  "after": after}, token="")
        conn = body["data"]["page"]["events"]
        seen += [e["node"]["title"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert sorted(seen) == ["I0", "I1", "I2", "I3", "I4"]
