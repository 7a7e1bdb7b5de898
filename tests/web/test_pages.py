"""The server-rendered public pages: what a visitor without JavaScript reads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from resolvers.demo import DEMO_LAYOUT, UNGROUPED, load_demo
from web.appstate import AppState

pytestmark = pytest.mark.usefixtures("db")

CREATE_INCIDENT = """
mutation($input: CreateIncidentInput!) {
  createIncident(input: $input) {
    __typename ... on CreateIncidentPayload { event { id } } ... on Error { code message field }
  }
}
"""
CREATE_PAGE = """
mutation($input: CreatePageInput!) {
  createPage(input: $input) { __typename ... on CreatePagePayload { page { id slug } } }
}
"""


def text(html: str) -> str:
    """The visible words of a page, whitespace collapsed."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_the_demo_page_shows_its_groups_components_and_overall_status(client: Any) -> None:
    await load_demo()
    response = await client.get("/p/demo")
    assert response.status_code == 200
    words = text(response.text)
    assert "Heliograph Demo" in words
    assert "All systems operational" in words
    for group, names in DEMO_LAYOUT.items():
        assert group in words
        for name in names:
            assert name in words
    for name in UNGROUPED:
        assert name in words
    # status in words, never colour alone
    assert words.count("Operational") >= sum(len(n) for n in DEMO_LAYOUT.values())
    assert "Times are shown in Europe/Berlin" in words
    assert 'data-sequence="' in response.text


async def test_the_home_page_is_the_first_public_page(client: Any) -> None:
    await load_demo()
    response = await client.get("/")
    assert response.status_code == 200
    assert "Heliograph Demo" in text(response.text)


async def test_an_unknown_slug_is_the_404_page_with_a_sign_in_link(client: Any) -> None:
    response = await client.get("/p/nope")
    assert response.status_code == 404
    assert "Page not found" in text(response.text)
    assert 'href="/signin?next=' in response.text


async def test_an_internal_page_is_the_same_404_for_an_anonymous_visitor(
    client: Any, gql: Any
) -> None:
    made = await gql(CREATE_PAGE, {"input": {"slug": "staff", "name": "Staff systems",
                                             "visibility": "INTERNAL"}})
    assert made["data"]["createPage"]["__typename"] == "CreatePagePayload"
    unknown = await client.get("/p/nope")
    internal = await client.get("/p/staff")
    assert internal.status_code == unknown.status_code == 404
    assert "Staff systems" not in internal.text
    assert text(internal.text).replace("staff", "nope") == text(unknown.text)
    for path in ("/p/staff/history", "/p/staff/live", "/p/staff/events/x"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "Staff systems" not in response.text


async def test_an_internal_page_is_shown_to_a_signed_in_member(
    client: Any, gql: Any, admin_token: str
) -> None:
    await gql(CREATE_PAGE, {"input": {"slug": "staff", "name": "Staff systems",
                                      "visibility": "INTERNAL"}})
    response = await client.get("/p/staff", headers={"authorization": f"Bearer {admin_token}"})
    assert response.status_code == 200
    assert "Staff systems" in text(response.text)
    assert "Internal page" in text(response.text)


async def test_history_has_month_navigation(client: Any) -> None:
    await load_demo()  # its components count from 120 days ago: the months around are history
    later = datetime.now(UTC).replace(day=1)
    month = (later - timedelta(days=1)).replace(day=1)
    earlier = (month - timedelta(days=1)).replace(day=1)
    response = await client.get(f"/p/demo/history?month={month:%Y-%m}")
    assert response.status_code == 200
    words = text(response.text)
    assert f"History: {month:%B %Y}" in words
    assert f'href="?month={earlier:%Y-%m}"' in response.text
    assert f'href="?month={later:%Y-%m}"' in response.text


async def test_a_malformed_month_falls_back_to_this_month(client: Any) -> None:
    await load_demo()
    response = await client.get("/p/demo/history?month=garbage")
    assert response.status_code == 200
    assert "History:" in text(response.text)


async def test_the_subscribe_form_works_without_javascript(client: Any) -> None:
    from models import Subscriber

    await load_demo()
    refused = await client.post("/p/demo/subscribe", data={"email": "nope", "scope": "page"})
    assert refused.status_code == 400
    assert 'data-error-for="email" role="alert"></p>' not in refused.text  # the error is shown
    assert await Subscriber.all().count() == 0
    done = await client.post("/p/demo/subscribe",
                             data={"email": "reader@example.com", "scope": "page"})
    assert done.status_code == 200
    assert await Subscriber.filter(email="reader@example.com").count() == 1


async def test_update_messages_are_rendered_as_sanitised_markdown(client: Any, gql: Any) -> None:
    demo = await load_demo()
    made = await gql(CREATE_INCIDENT, {"input": {
        "pageId": demo.id, "title": "Slow pages",
        "message": "**Slow** <script>alert(1)</script> [link](javascript:alert(1))",
    }})
    event_id = made["data"]["createIncident"]["event"]["id"]
    response = await client.get(f"/p/demo/events/{event_id}")
    assert response.status_code == 200
    assert "<strong>Slow</strong>" in response.text
    assert "<script>alert(1)" not in response.text
    assert 'href="javascript:' not in response.text
    page = await client.get("/p/demo")
    assert "Slow pages" in text(page.text)
    assert "Active incidents" in text(page.text)


async def test_an_event_is_not_shown_under_another_pages_address(client: Any, gql: Any) -> None:
    demo = await load_demo()
    await gql(CREATE_PAGE, {"input": {"slug": "other", "name": "Other"}})
    made = await gql(CREATE_INCIDENT, {"input": {"pageId": demo.id, "title": "Demo only",
                                                 "message": "x"}})
    event_id = made["data"]["createIncident"]["event"]["id"]
    assert (await client.get(f"/p/demo/events/{event_id}")).status_code == 200
    assert (await client.get(f"/p/other/events/{event_id}")).status_code == 404


async def test_an_anonymous_visitor_never_gets_a_page_older_than_a_change(
    client: Any, gql: Any, shared: AppState
) -> None:
    from models import StatusPage

    demo = await load_demo()
    before = await client.get("/p/demo")
    again = await client.get("/p/demo")
    assert before.text == again.text  # served from the cache
    made = await gql(CREATE_INCIDENT, {"input": {"pageId": demo.id, "title": "Cache test",
                                                 "message": "x"}})
    assert made["data"]["createIncident"]["__typename"] == "CreateIncidentPayload"
    await client.get("/p/demo")  # may still be the previous page while the new one renders
    await shared.read_cache.idle()
    after = await client.get("/p/demo")
    assert "Cache test" in text(after.text)
    sequence = (await StatusPage.get(id=demo.id)).sequence
    fragment = await client.get(f"/p/demo/live?sequence={sequence}")
    assert "Cache test" in text(fragment.text)


async def test_history_lists_the_months_events_and_links_each_to_its_timeline(
    client: Any, gql: Any
) -> None:
    from datetime import UTC, datetime, timedelta

    demo = await load_demo()
    from models import Component

    api_id = (await Component.get(page_id=demo.id, name="API")).id
    from zoneinfo import ZoneInfo

    start = (datetime.now(UTC) - timedelta(days=60)).replace(hour=8, minute=0, second=0,
                                                              microsecond=0)
    berlin = start.astimezone(ZoneInfo("Europe/Berlin"))
    month = berlin.strftime("%Y-%m")
    following = (berlin.replace(day=28) + timedelta(days=5)).strftime("%Y-%m")
    made = await gql("""
      mutation($input: CreateRetrospectiveEventInput!) {
        createRetrospectiveEvent(input: $input) {
          __typename ... on CreateRetrospectiveEventPayload { event { id } }
          ... on Error { message field }
        }
      }""", {"input": {
        "pageId": demo.id, "kind": "INCIDENT", "title": "Old outage",
        "startedAt": start.isoformat(), "endedAt": (start + timedelta(hours=2)).isoformat(),
        "components": [{"componentId": api_id, "impact": "FULL_OUTAGE"}],
        "updates": [
            {"at": start.isoformat(), "status": "INVESTIGATING", "message": "Down."},
            {"at": (start + timedelta(hours=1)).isoformat(), "status": "IDENTIFIED",
             "message": "Found it."},
            {"at": (start + timedelta(hours=2)).isoformat(), "status": "RESOLVED",
             "message": "Back."},
        ],
    }})
    assert "event" in made["data"]["createRetrospectiveEvent"], made
    event_id = made["data"]["createRetrospectiveEvent"]["event"]["id"]
    march = await client.get(f"/p/demo/history?month={month}")
    words = text(march.text)
    assert "Old outage" in words and "Retrospective" in words
    assert f'href="/p/demo/events/{event_id}"' in march.text
    april = await client.get(f"/p/demo/history?month={following}")
    assert "Old outage" not in text(april.text)
    timeline = text((await client.get(f"/p/demo/events/{event_id}")).text)
    for message in ("Down.", "Found it.", "Back."):
        assert message in timeline
    # newest first, in the page's zone with the zone labelled
    assert timeline.index("Back.") < timeline.index("Found it.") < timeline.index("Down.")
    assert berlin.strftime("%d %b %Y, %H:%M %Z") in timeline


async def test_a_component_shown_only_if_degraded_appears_with_its_incident(
    client: Any, gql: Any, shared: AppState
) -> None:
    demo = await load_demo()
    made = await gql("""
      mutation($input: CreateComponentInput!) {
        createComponent(input: $input) {
          __typename ... on CreateComponentPayload { component { id } }
        }
      }""", {"input": {"pageId": demo.id, "name": "Legacy FTP", "onlyShowIfDegraded": True,
                       "showcase": False}})
    ftp = made["data"]["createComponent"]["component"]["id"]
    quiet = await client.get("/p/demo")
    assert "Legacy FTP" not in text(quiet.text)
    await gql(CREATE_INCIDENT, {"input": {
        "pageId": demo.id, "title": "FTP down", "message": "x",
        "components": [{"componentId": ftp, "impact": "FULL_OUTAGE"}]}})
    await client.get("/p/demo")
    await shared.read_cache.idle()
    loud = await client.get("/p/demo")
    row = loud.text[loud.text.index(f'id="component-{ftp}"'):]
    row = row[:row.index("</li>")]
    assert "Legacy FTP" in text(row) and "Major outage" in text(row)
    assert 'class="bars"' not in row  # no uptime bars: not showcased


async def test_a_visitor_subscribes_to_one_open_event_from_its_page(client: Any, gql: Any) -> None:
    from models import Subscriber

    demo = await load_demo()
    made = await gql(CREATE_INCIDENT, {"input": {"pageId": demo.id, "title": "Follow me",
                                                 "message": "x"}})
    event_id = made["data"]["createIncident"]["event"]["id"]
    shown = await client.get(f"/p/demo/events/{event_id}")
    assert "Subscribe to this event" in text(shown.text)
    done = await client.post("/p/demo/subscribe",
                             data={"email": "one@example.com", "eventId": event_id})
    assert done.status_code == 200
    subscriber = await Subscriber.get(email="one@example.com")
    assert subscriber.event_id == event_id


async def test_history_starts_at_the_earliest_event_or_component_in_one_query(
        client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tortoise import connections

    from models import Component, Event, StatusPage
    from web import pages

    page = await StatusPage.create(slug="old", name="Old", sequence=1)
    await Component.create(page_id=page.id, name="API", position=0,
                           since=datetime(2024, 1, 15, tzinfo=UTC))
    for when, field in ((datetime(2023, 6, 3, 12, tzinfo=UTC), "started_at"),
                        (datetime(2023, 9, 1, tzinfo=UTC), "scheduled_start")):
        await Event.create(page_id=page.id, kind="INCIDENT", status="RESOLVED",
                           title="Imported", **{field: when})
    connection = connections.get("default")
    asked: list[str] = []
    for name in ("execute_query", "execute_query_dict"):
        original = getattr(connection, name)

        async def counted(sql: str, *args: Any, _original: Any = original) -> Any:
            asked.append(sql)
            return await _original(sql, *args)

        monkeypatch.setattr(connection, name, counted)
    assert await pages._history_start(page.id) == datetime(2023, 6, 3, 12, tzinfo=UTC)
    assert len(asked) == 1, asked
    monkeypatch.undo()

    oldest = await client.get("/p/old/history?month=2000-01")
    assert "History: June 2023" in text(oldest.text)
    assert "The page's history starts here." in text(oldest.text)
    assert 'rel="prev"' not in oldest.text
