"""Atom and RSS of a page's events, and the iCalendar of its maintenance, read by real parsers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import feedparser
import icalendar
import pytest
from statuspage_world import CREATE_INCIDENT, add_component, build_world, create_page

pytestmark = pytest.mark.usefixtures("db")


async def test_atom_lists_events_with_their_updates(client: Any, gql: Any) -> None:
    world = await build_world(gql)
    response = await client.get("/p/acme/history.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert response.headers["access-control-allow-origin"] == "*"
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Acme Cloud status"
    titles = {e.title: e for e in feed.entries}
    assert set(titles) == {"API errors", "Slow queries", "Upcoming upgrade",
                           "In Progress upgrade"}
    active = titles["API errors"]
    assert active.link == f"http://testserver/p/acme/events/{world.events['active']}"
    html = active.content[0].value
    for message in ("We are investigating.", "A bad deploy.", "Rolled back; watching."):
        assert message in html
    assert html.index("Rolled back") < html.index("We are investigating.")  # newest first
    # Markdown is rendered (and sanitised) as in the page.
    assert "<strong>Fixed</strong>" in titles["Slow queries"].content[0].value


async def test_rss_lists_the_same_events(client: Any, gql: Any) -> None:
    world = await build_world(gql)
    response = await client.get("/p/acme/history.rss")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.link == "http://testserver/p/acme/history"
    ids = {e.id for e in feed.entries}
    assert ids == {f"http://testserver/p/acme/events/{world.events[r]}"
                   for r in ("active", "resolved", "upcoming", "in_progress")}
    resolved = next(e for e in feed.entries if e.title == "Slow queries")
    assert "Queries are slow." in resolved.description
    assert "Resolved" in resolved.description


async def test_messages_cannot_inject_markup_into_feeds(client: Any, gql: Any) -> None:
    page_id = await create_page(gql, "acme", "Acme")
    await add_component(gql, page_id, "API")
    await gql(CREATE_INCIDENT, {"input": {
        "pageId": page_id, "title": "<b>Bold</b> & title",
        "message": "<script>alert(1)</script> [x](javascript:alert(1))"}})
    for path in ("/p/acme/history.atom", "/p/acme/history.rss"):
        feed = feedparser.parse((await client.get(path)).content)
        assert feed.bozo == 0
        entry = feed.entries[0]
        body = entry.content[0].value if "content" in entry else entry.description
        assert "<script" not in body and 'href="javascript' not in body
        assert "&lt;script&gt;alert(1)" in body  # shown as text
        assert entry.title == "<b>Bold</b> & title"


async def test_the_calendar_holds_each_maintenance_window(client: Any, gql: Any) -> None:
    world = await build_world(gql)
    response = await client.get("/p/acme/maintenance.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"Upcoming upgrade", "In Progress upgrade"}  # no incidents
    upcoming = events["Upcoming upgrade"]
    assert upcoming.decoded("dtstart") == world.starts["upcoming"]
    assert upcoming.decoded("dtend") == world.starts["upcoming"] + timedelta(hours=2)
    assert str(upcoming["uid"]).startswith(world.events["upcoming"])
    assert str(upcoming["status"]) == "CONFIRMED"
    assert "Docs" in str(upcoming["description"])
    assert str(upcoming["url"]).endswith(f"/p/acme/events/{world.events['upcoming']}")
    assert len({str(e["uid"]) for e in events.values()}) == 2


async def test_feeds_of_the_default_page_and_conditional_requests(client: Any,
                                                                  gql: Any) -> None:
    await build_world(gql)
    for name in ("history.atom", "history.rss", "maintenance.ics"):
        page = await client.get(f"/p/acme/{name}")
        default = await client.get(f"/{name}")
        assert default.status_code == 200 and default.content == page.content
        again = await client.get(f"/{name}", headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304


async def test_feeds_of_internal_pages_are_hidden_from_anonymous_callers(
        client: Any, gql: Any, admin_token: str) -> None:
    await build_world(gql, slug="ops", visibility="INTERNAL")
    unknown = await client.get("/p/unknown/history.atom")
    for name in ("history.atom", "history.rss", "maintenance.ics"):
        signed = await client.get(f"/p/ops/{name}",
                                  headers={"Authorization": f"Bearer {admin_token}"})
        assert signed.status_code == 200
        assert "access-control-allow-origin" not in signed.headers
        anonymous = await client.get(f"/p/ops/{name}")
        assert anonymous.status_code == 404 and anonymous.content == unknown.content
        assert dict(anonymous.headers) == dict(unknown.headers)
        assert (await client.get(f"/{name}")).status_code == 404  # not the default page
