"""Live streams follow incidents: publication, updates, resolution, and the component watch."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_live import make_page
from tests.helpers.server import running_server
from tests.realtime.client import COMPONENT_STATUS, mutate, subscribe

pytestmark = pytest.mark.e2e

PAGE_AND_EVENT = """
subscription($slug: String!) {
  pageUpdates(slug: $slug) {
    sequence kind componentIds
    event { id title status components { impact component { id } } updates { status message } }
    page { status components { id status } }
  }
}"""
CREATE_INCIDENT = """
mutation($input: CreateIncidentInput!) {
  createIncident(input: $input) {
    __typename
    ... on CreateIncidentPayload { event { id } }
    ... on Error { code message }
  }
}"""
POST_UPDATE = """
mutation($input: PostEventUpdateInput!) {
  postEventUpdate(input: $input) {
    __typename
    ... on Error { code message }
  }
}"""


async def test_incident_lifecycle_reaches_page_and_component_streams(
        admin: Any, admin_token: str) -> None:
    page, (api, web) = await make_page(admin)
    with running_server() as base:
        async with subscribe(base, PAGE_AND_EVENT, {"slug": "status"}) as stream, \
                subscribe(base, COMPONENT_STATUS, {"slug": "status", "ids": [web.id]}) as watch:
            first = (await stream.next())["pageUpdates"]
            watched = (await watch.next())["componentStatusChanged"]
            assert first["kind"] == watched["kind"] == "SNAPSHOT"
            assert first["event"] is None and first["page"]["status"] == "OPERATIONAL"
            assert watched["componentIds"] == [web.id]

            created = await mutate(base, admin_token, CREATE_INCIDENT, {"input": {
                "pageId": page.id, "title": "API errors", "message": "Looking into it",
                "components": [{"componentId": api.id, "impact": "PARTIAL_OUTAGE"}]}})
            event_id = created["createIncident"]["event"]["id"]
            published = (await stream.next())["pageUpdates"]
            assert published["kind"] == "EVENT_PUBLISHED"
            assert published["sequence"] == first["sequence"] + 1
            assert published["componentIds"] == [api.id]
            assert published["event"]["id"] == event_id
            assert published["event"]["title"] == "API errors"
            assert published["event"]["components"] == [
                {"impact": "PARTIAL_OUTAGE", "component": {"id": api.id}}]
            assert published["page"]["status"] == "PARTIAL_OUTAGE"
            assert {c["id"]: c["status"] for c in published["page"]["components"]} == {
                api.id: "PARTIAL_OUTAGE", web.id: "OPERATIONAL"}
            # The watched component did not change: the dashboard stream stays quiet.
            assert await watch.nothing_within(1.0)

            await mutate(base, admin_token, POST_UPDATE, {"input": {
                "eventId": event_id, "status": "IDENTIFIED", "message": "Web too",
                "components": [{"componentId": web.id, "impact": "DEGRADED"}]}})
            updated = (await stream.next())["pageUpdates"]
            assert updated["kind"] == "EVENT_UPDATED"
            assert updated["sequence"] == published["sequence"] + 1
            assert [u["status"] for u in updated["event"]["updates"]] == [
                "INVESTIGATING", "IDENTIFIED"]
            change = (await watch.next())["componentStatusChanged"]
            assert change["kind"] == "COMPONENT_STATUS"
            assert change["componentIds"] == [web.id]
            assert change["sequence"] == updated["sequence"]
            assert {c["id"]: c["status"] for c in change["page"]["components"]}[web.id] == \
                "DEGRADED"

            await mutate(base, admin_token, POST_UPDATE, {"input": {
                "eventId": event_id, "status": "RESOLVED", "message": "Fixed"}})
            resolved = (await stream.next())["pageUpdates"]
            assert resolved["kind"] == "EVENT_UPDATED"
            assert resolved["sequence"] == updated["sequence"] + 1
            assert resolved["event"]["status"] == "RESOLVED"
            assert resolved["page"]["status"] == "OPERATIONAL"
            back = (await watch.next())["componentStatusChanged"]
            assert back["componentIds"] == [web.id]
            assert {c["id"]: c["status"] for c in back["page"]["components"]}[web.id] == \
                "OPERATIONAL"
