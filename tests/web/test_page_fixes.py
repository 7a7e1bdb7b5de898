"""Issue 16, checked over HTTP: availability says over which span it counts, BEFORE_SINCE says
how to fix it (in the page's zone) and `since` moves from the API, empty component choices are
refused, the history pager stops at the page's start, the follow area's links all answer, the
widget is the one frameable page (internal pages 404 like unknown ones), the console presets
never move an event forward and its forms never put what was typed into a URL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from models import Component, Subscriber
from models.enums import SubscriberChannel, SubscriberState
from notifications import links
from resolvers.validate import local_words
from tests.web.test_pages import text

pytestmark = pytest.mark.usefixtures("db")

ZONE = "Europe/Berlin"
CREATE_PAGE = """mutation($input: CreatePageInput!) { createPage(input: $input) {
  __typename ... on CreatePagePayload { page { id } } ... on Error { code message field } } }"""
CREATE_COMPONENT = """mutation($input: CreateComponentInput!) { createComponent(input: $input) {
  __typename ... on CreateComponentPayload { component { id } } } }"""
UPDATE_COMPONENT = """mutation($input: UpdateComponentInput!) { updateComponent(input: $input) {
  __typename ... on UpdateComponentPayload { component { since } }
  ... on Error { code message field } } }"""
UPDATE_PAGE = """mutation($input: UpdatePageInput!) { updatePage(input: $input) {
  __typename ... on Error { code message field } } }"""
RETROSPECTIVE = """mutation($input: CreateRetrospectiveEventInput!) {
  createRetrospectiveEvent(input: $input) {
  __typename ... on CreateRetrospectiveEventPayload { event { id } }
  ... on Error { code message field } } }"""
INCIDENT = """mutation($input: CreateIncidentInput!) { createIncident(input: $input) {
  __typename ... on CreateIncidentPayload { event { id } } ... on Error { message } } }"""
POST_UPDATE = """mutation($input: PostEventUpdateInput!) { postEventUpdate(input: $input) {
  __typename ... on Error { message } } }"""


async def make_page(gql: Any, slug: str = "shop", visibility: str = "PUBLIC"
                    ) -> tuple[str, dict[str, str]]:
    """A page in Berlin with "Website" (created now) and "Archive" (counted from 200 days ago)."""
    page = (await gql(CREATE_PAGE, {"input": {"slug": slug, "name": slug.title(),
                                              "timeZone": ZONE, "visibility": visibility}})
            )["data"]["createPage"]["page"]["id"]
    ids = {}
    for name, since in (("Website", None), ("Archive", datetime.now(UTC) - timedelta(days=200))):
        answer = await gql(CREATE_COMPONENT, {"input": {
            "pageId": page, "name": name, "since": since.isoformat() if since else None}})
        ids[name] = answer["data"]["createComponent"]["component"]["id"]
    return page, ids


def retrospective(page_id: str, component_id: str, start: datetime) -> dict[str, Any]:
    end = start + timedelta(minutes=1)
    return {"input": {"pageId": page_id, "kind": "INCIDENT", "title": "Last week",
                      "startedAt": start.isoformat(), "endedAt": end.isoformat(),
                      "components": [{"componentId": component_id, "impact": "FULL_OUTAGE"}],
                      "updates": [{"at": start.isoformat(), "status": "INVESTIGATING",
                                   "message": "Down"},
                                  {"at": end.isoformat(), "status": "RESOLVED",
                                   "message": "Up"}]}}


async def test_a_young_component_says_since_when_its_availability_counts(gql: Any,
                                                                         client: Any) -> None:
    page_id, ids = await make_page(gql)
    await gql(INCIDENT, {"input": {"pageId": page_id, "title": "Blip", "message": "Down",
                                   "components": [{"componentId": ids["Website"],
                                                   "impact": "FULL_OUTAGE"}]}})
    response = await client.get("/p/shop")
    assert response.status_code == 200
    words = text(response.text)
    since = (await Component.get(id=ids["Website"])).since.astimezone(ZoneInfo(ZONE))
    assert re.search(rf"Website .*? availability since {since.day} {since:%b}\b", words), words
    assert re.search(r"Archive .*? availability over the last 90 days", words), words
    assert "availability over the last 90 days" not in words.split("Archive")[0]
    # the bars' scale and the caption speak of the same span, on every screen
    assert "30 days ago" not in words and "90 days ago" in words


async def test_before_since_says_how_to_fix_it_and_since_moves_earlier(gql: Any) -> None:
    page_id, ids = await make_page(gql)
    week_ago = datetime.now(UTC) - timedelta(days=7)
    refused = (await gql(RETROSPECTIVE, retrospective(page_id, ids["Website"], week_ago))
               )["data"]["createRetrospectiveEvent"]
    since = (await Component.get(id=ids["Website"])).since
    assert refused["code"] == "BEFORE_SINCE"
    assert refused["message"].startswith(f"Website is counted from {local_words(since, ZONE)}")
    assert re.search(r"\d{2}:\d{2} CET", refused["message"]), refused["message"]
    assert "Components → Website" in refused["message"] and "earlier" in refused["message"]

    # later than the first recorded impact, or into the future: refused, nothing moves
    moved = week_ago - timedelta(days=1)
    answer = (await gql(UPDATE_COMPONENT, {"input": {"id": ids["Website"],
                                                     "since": moved.isoformat()}})
              )["data"]["updateComponent"]
    assert answer["__typename"] == "UpdateComponentPayload"
    created = (await gql(RETROSPECTIVE, retrospective(page_id, ids["Website"], week_ago))
               )["data"]["createRetrospectiveEvent"]
    assert created["__typename"] == "CreateRetrospectiveEventPayload", created
    too_late = (await gql(UPDATE_COMPONENT, {"input": {
        "id": ids["Website"], "since": (week_ago + timedelta(hours=1)).isoformat()}})
                )["data"]["updateComponent"]
    assert too_late["code"] == "BEFORE_SINCE"
    assert f"({local_words(week_ago, ZONE)})" in too_late["message"]
    future = (await gql(UPDATE_COMPONENT, {"input": {
        "id": ids["Website"], "since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}})
              )["data"]["updateComponent"]
    assert future["code"] == "INVALID"
    assert abs((await Component.get(id=ids["Website"])).since - moved) < timedelta(seconds=1)


async def test_chosen_components_with_none_ticked_is_refused_not_everything(gql: Any,
                                                                            client: Any) -> None:
    page_id, ids = await make_page(gql)
    refused = await client.post("/p/shop/subscribe", data={"email": "a@example.com",
                                                           "scope": "components"})
    assert refused.status_code == 400
    assert "Choose at least one component" in text(refused.text)
    assert await Subscriber.all().count() == 0

    subscriber = await Subscriber.create(page_id=page_id, channel=SubscriberChannel.EMAIL,
                                         email="m@example.com",
                                         state=SubscriberState.CONFIRMED)
    url = f"/subscriptions/manage/{links.manage_token(subscriber.id)}"
    saved = await client.post(url, data={"scope": "components", "component": [ids["Archive"]],
                                         "action": "update"})
    assert saved.status_code == 200
    unticked = await client.post(url, data={"scope": "components", "action": "update"})
    assert unticked.status_code == 400
    assert "Choose at least one component" in text(unticked.text)
    shown = await client.get(url)  # still the one component, not "everything"
    assert re.search(rf'value="{ids["Archive"]}"\s+checked', shown.text)


async def test_the_history_pager_stops_where_the_page_starts(gql: Any, client: Any) -> None:
    await make_page(gql)  # its oldest component counts from 200 days ago
    oldest = (datetime.now(UTC) - timedelta(days=200)).astimezone(ZoneInfo(ZONE))
    response = await client.get("/p/shop/history?month=1900-01")
    assert response.status_code == 200
    assert f"History: {oldest:%B %Y}" in text(response.text)
    assert 'rel="prev"' not in response.text
    following = await client.get(f"/p/shop/history?month={oldest:%Y-%m}")
    assert 'rel="next"' in following.text


async def test_follow_links_answer_and_the_widget_is_public_only(gql: Any, client: Any) -> None:
    await make_page(gql)
    await make_page(gql, slug="staff", visibility="INTERNAL")
    page = await client.get("/p/shop")
    follow = page.text.split('id="follow-title"', 1)[1].split("</section>", 1)[0]
    hrefs = set(re.findall(r'href="([^"]+)"', follow))
    assert {"/p/shop/history.atom", "/p/shop/maintenance.ics", "/p/shop/badge.svg",
            "/p/shop/api/v2/summary.json", "/p/shop/widget"} <= hrefs
    alternate = re.findall(r'<link rel="alternate"[^>]*href="([^"]+)"', page.text)
    for href in sorted(hrefs | set(alternate)):
        assert (await client.get(href)).status_code == 200, href

    widget = await client.get("/p/shop/widget")
    assert "All systems operational" in text(widget.text)
    assert "frame-ancestors *" in widget.headers["content-security-policy"]
    assert "x-frame-options" not in widget.headers
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    unknown = await client.get("/p/nosuch/widget")
    for headers in ({}, {"authorization": f"Bearer {gql.token}"}):  # signed in or not
        internal = await client.get("/p/staff/widget", headers=headers)
        # the same page, but for the sign-in link back to the path asked for
        assert (internal.status_code, internal.text.replace("/staff/", "/nosuch/")) == (
            404, unknown.text)


async def test_the_time_zone_is_picked_from_a_list_and_checked(gql: Any, client: Any) -> None:
    page_id, _ = await make_page(gql)
    refused = (await gql(UPDATE_PAGE, {"input": {"id": page_id, "timeZone": "Mars/Olympus"}})
               )["data"]["updatePage"]
    assert (refused["code"], refused["field"]) == ("INVALID", "timeZone")
    console = await client.get("/manage/p/shop",
                               headers={"authorization": f"Bearer {gql.token}"})
    assert console.status_code == 200
    assert 'list="time-zones"' in console.text and '<option value="Europe/Berlin">' in console.text


async def test_console_presets_never_move_an_event_forward_and_forms_never_use_a_url(
    gql: Any, client: Any,
) -> None:
    page_id, ids = await make_page(gql)
    event = (await gql(INCIDENT, {"input": {
        "pageId": page_id, "title": "Slow", "message": "Looking", "components": [
            {"componentId": ids["Website"], "impact": "DEGRADED"}]}})
             )["data"]["createIncident"]["event"]["id"]
    await gql(POST_UPDATE, {"input": {"eventId": event, "status": "MONITORING",
                                      "message": "Fix deployed", "notify": False}})
    auth = {"authorization": f"Bearer {gql.token}"}
    view = await client.get(f"/manage/events/{event}", headers=auth)
    update_form = view.text.split('id="update-form"', 1)[1].split("</form>", 1)[0]
    assert re.search(r'<option value="MONITORING"\s+selected', update_form), update_form
    assert not re.search(r'<option value="RESOLVED"\s+selected', update_form)

    for path in (f"/manage/events/{event}", "/manage/p/shop", "/manage/users", "/manage/tokens",
                 "/manage", "/manage/p/shop/new/retrospective"):
        html = (await client.get(path, headers=auth)).text
        forms = re.findall(r"<form\b[^>]*>", html)
        assert forms, path
        for form in forms:
            assert 'method="post"' in form and "action=" in form, (path, form)
    answer = await client.post("/manage/needs-javascript", data={"password": "secret"},
                               headers=auth)
    assert answer.status_code == 400 and "Nothing was changed" in text(answer.text)
    assert "secret" not in answer.text
