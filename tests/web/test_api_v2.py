"""The Statuspage-compatible JSON: documented shapes, what it says, caching and access."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from statuspage_world import CREATE_COMPONENT, add_component, build_world, create_page, post_update

from web.appstate import AppState


async def after_render(client: Any, shared: AppState, *urls: str) -> None:
    """Right after a change a read may get the previous body while the new one renders (for
    at most STALE_GRACE): make those reads and wait for their renders to finish."""
    for url in urls:
        await client.get(url)
    await shared.read_cache.idle()

pytestmark = pytest.mark.usefixtures("db")

SCHEMAS = Path(__file__).parent / "statuspage_schemas"
ENDPOINTS = {
    "summary.json": "summary.json",
    "status.json": "status.json",
    "components.json": "components.json",
    "incidents.json": "incidents.json",
    "incidents/unresolved.json": "incidents_unresolved.json",
    "scheduled-maintenances.json": "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json": "scheduled-maintenances_upcoming.json",
    "scheduled-maintenances/active.json": "scheduled-maintenances_active.json",
}


def _registry() -> Registry:
    registry: Registry = Registry()
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text())
        registry = registry.with_resource(contents["$id"], Resource.from_contents(contents))
    return registry


REGISTRY = _registry()


def validator(schema_file: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / schema_file).read_text())
    return Draft202012Validator(schema, registry=REGISTRY)


async def test_every_endpoint_validates_against_the_documented_schema(client: Any,
                                                                      gql: Any) -> None:
    await build_world(gql)
    for name, schema_file in ENDPOINTS.items():
        response = await client.get(f"/p/acme/api/v2/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator(schema_file).iter_errors(body)]
        assert errors == [], (name, errors)
        # The default page (the first public one) answers the same bytes at /api/v2/.
        default = await client.get(f"/api/v2/{name}")
        assert default.status_code == 200 and default.content == response.content, name


async def test_the_schemas_refuse_what_statuspage_would_not_send(client: Any, gql: Any) -> None:
    await build_world(gql)
    body = (await client.get("/p/acme/api/v2/summary.json")).json()
    check = validator("summary.json")
    assert check.is_valid(body)
    body["components"][1]["status"] = "DEGRADED"
    assert not check.is_valid(body)
    body = (await client.get("/p/acme/api/v2/incidents.json")).json()
    del body["incidents"][0]["incident_updates"][0]["display_at"]
    assert not validator("incidents.json").is_valid(body)


async def test_summary_says_what_the_page_shows(client: Any, gql: Any) -> None:
    world = await build_world(gql)
    c = world.components
    body = (await client.get("/p/acme/api/v2/summary.json")).json()

    assert body["page"]["name"] == "Acme Cloud"
    assert body["page"]["url"] == "http://testserver/p/acme"
    assert body["page"]["time_zone"] == "Europe/Berlin"
    # API partial outage is the worst (precedence over maintenance and degraded).
    assert body["status"] == {"indicator": "major", "description": "Partial System Outage"}

    components = body["components"]
    assert [x["name"] for x in components] == ["Core", "API", "Web", "Data", "Database", "Docs"]
    assert [x["position"] for x in components] == [1, 2, 3, 4, 5, 6]
    by_name = {x["name"]: x for x in components}
    assert by_name["Core"]["group"] is True
    assert by_name["Core"]["components"] == [c["API"], c["Web"]]
    assert by_name["Core"]["status"] == "partial_outage"
    assert by_name["API"]["group_id"] == world.groups["Core"]
    assert by_name["Docs"]["group_id"] is None and by_name["Docs"]["group"] is False
    assert {n: by_name[n]["status"] for n in ("API", "Web", "Database", "Docs")} == {
        "API": "partial_outage", "Web": "degraded_performance",
        "Database": "under_maintenance", "Docs": "operational",
    }

    assert [i["id"] for i in body["incidents"]] == [world.events["active"]]
    incident = body["incidents"][0]
    assert incident["status"] == "monitoring" and incident["impact"] == "critical"
    assert incident["monitoring_at"] is not None and incident["resolved_at"] is None
    assert incident["shortlink"] == f"http://testserver/p/acme/events/{world.events['active']}"
    assert [u["status"] for u in incident["incident_updates"]] == [
        "monitoring", "identified", "investigating"]
    assert incident["incident_updates"][1]["affected_components"] == [
        {"code": c["API"], "name": "API", "old_status": "partial_outage",
         "new_status": "major_outage"},
        {"code": c["Web"], "name": "Web", "old_status": "operational",
         "new_status": "degraded_performance"},
    ]
    assert {x["name"] for x in incident["components"]} == {"API", "Web"}

    maintenances = body["scheduled_maintenances"]
    assert [m["id"] for m in maintenances] == [world.events["in_progress"],
                                               world.events["upcoming"]]
    assert [m["status"] for m in maintenances] == ["in_progress", "scheduled"]
    assert maintenances[0]["impact"] == "maintenance"
    started = maintenances[0]["incident_updates"][0]
    assert started["affected_components"] == [
        {"code": c["Database"], "name": "Database", "old_status": "operational",
         "new_status": "under_maintenance"}]


async def test_lists_of_incidents_and_maintenances(client: Any, gql: Any) -> None:
    world = await build_world(gql)
    incidents = (await client.get("/p/acme/api/v2/incidents.json")).json()["incidents"]
    assert {i["id"]: i["status"] for i in incidents} == {
        world.events["active"]: "monitoring", world.events["resolved"]: "resolved"}
    resolved = next(i for i in incidents if i["id"] == world.events["resolved"])
    assert resolved["resolved_at"] is not None and resolved["impact"] == "minor"
    assert resolved["incident_updates"][0]["body"] == "**Fixed**: an index was added."
    assert resolved["incident_updates"][0]["affected_components"] == [
        {"code": world.components["Database"], "name": "Database",
         "old_status": "degraded_performance", "new_status": "operational"}]

    unresolved = (await client.get("/p/acme/api/v2/incidents/unresolved.json")).json()
    assert [i["id"] for i in unresolved["incidents"]] == [world.events["active"]]

    upcoming = (await client.get("/p/acme/api/v2/scheduled-maintenances/upcoming.json")).json()
    assert [m["id"] for m in upcoming["scheduled_maintenances"]] == [world.events["upcoming"]]
    planned = upcoming["scheduled_maintenances"][0]
    start = datetime.fromisoformat(planned["scheduled_for"])
    assert start == world.starts["upcoming"] and start.utcoffset() in (
        timedelta(hours=1), timedelta(hours=2))  # shown in the page's zone, like Statuspage
    assert [x["name"] for x in planned["components"]] == ["Docs"]

    active = (await client.get("/p/acme/api/v2/scheduled-maintenances/active.json")).json()
    assert [m["id"] for m in active["scheduled_maintenances"]] == [world.events["in_progress"]]
    everything = (await client.get("/p/acme/api/v2/scheduled-maintenances.json")).json()
    assert {m["id"] for m in everything["scheduled_maintenances"]} == {
        world.events["upcoming"], world.events["in_progress"]}


async def test_conditional_requests_get_304_until_the_page_changes(
        client: Any, gql: Any, shared: AppState) -> None:
    world = await build_world(gql)
    url = "/p/acme/api/v2/summary.json"
    first = await client.get(url)
    etag = first.headers["etag"]
    assert first.headers["access-control-allow-origin"] == "*"
    assert first.headers["last-modified"].endswith("GMT")

    for _ in range(2):
        again = await client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
    since = await client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304

    await post_update(gql, world.events["active"], "RESOLVED", "All good now.")
    await after_render(client, shared, url)
    changed = await client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["incidents"] == []
    assert (await client.get(url, headers={"If-None-Match": changed.headers["etag"]})
            ).status_code == 304


async def test_cors_preflight_is_the_same_for_every_page(client: Any, gql: Any) -> None:
    await build_world(gql)
    known = await client.options("/p/acme/api/v2/summary.json",
                                 headers={"Origin": "https://example.org",
                                          "Access-Control-Request-Method": "GET"})
    unknown = await client.options("/p/nope/api/v2/summary.json",
                                   headers={"Origin": "https://example.org",
                                            "Access-Control-Request-Method": "GET"})
    assert known.status_code == 204
    assert known.headers["access-control-allow-origin"] == "*"
    assert dict(known.headers) == dict(unknown.headers)


async def test_format_routes_answer_methods_and_paths_like_separate_routes(
        client: Any, gql: Any) -> None:
    """The formats sit behind one route (web/page_formats.FormatRoutes): every method, the
    component badges' second parameter and unknown names behave as Starlette's routes did."""
    world = await build_world(gql)
    url = "/p/acme/api/v2/summary.json"
    got = await client.get(url)
    head = await client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == str(len(got.content))
    posted = await client.post(url, json={})
    assert posted.status_code == 405
    assert set(posted.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert (await client.get("/p/acme/api/v2/nope.json")).status_code == 404
    assert (await client.get("/p/acme/api/v2/summary.json/extra")).status_code == 404
    api = world.components["API"]
    for badge in (f"/p/acme/components/{api}/badge.svg", f"/components/{api}/badge.svg"):
        answer = await client.get(badge)
        assert answer.status_code == 200, badge
        assert answer.headers["content-type"].startswith("image/svg+xml")
        assert b"API" in answer.content
    assert (await client.get("/p/acme/components/nope/badge.svg")).status_code == 404
    assert (await client.put(f"/p/acme/components/{api}/badge.svg")).status_code == 405
    assert (await client.get("/p/acme/history.atom")).headers["content-type"].startswith(
        "application/atom+xml")
    assert (await client.get("/api/v2/status.json")).json()["page"]["name"] == "Acme Cloud"


async def test_internal_pages_are_404_for_anonymous_and_data_for_tokens(
        client: Any, gql: Any, admin_token: str) -> None:
    page_id = await create_page(gql, "ops", "Ops", visibility="INTERNAL")
    component = await add_component(gql, page_id, "Secret VPN")
    unknown = await client.get("/p/no-such-page/api/v2/summary.json")
    assert unknown.status_code == 404
    for name in ENDPOINTS:
        signed = await client.get(f"/p/ops/api/v2/{name}",
                                  headers={"Authorization": f"Bearer {admin_token}"})
        assert signed.status_code == 200, name
        assert "access-control-allow-origin" not in signed.headers
        assert "private" in signed.headers["cache-control"]
        # After the body is cached, an anonymous caller still gets the unknown-page 404.
        anonymous = await client.get(f"/p/ops/api/v2/{name}")
        assert anonymous.status_code == 404
        assert anonymous.content == unknown.content
        assert dict(anonymous.headers) == dict(unknown.headers)
        assert b"Secret VPN" not in anonymous.content and component.encode() not in (
            anonymous.content)
        conditional = await client.get(f"/p/ops/api/v2/{name}",
                                       headers={"If-None-Match": signed.headers["etag"]})
        assert conditional.status_code == 404
    body = (await client.get("/p/ops/api/v2/components.json",
                             headers={"Authorization": f"Bearer {admin_token}"})).json()
    assert [x["name"] for x in body["components"]] == ["Secret VPN"]
    bad_token = await client.get("/p/ops/api/v2/summary.json",
                                 headers={"Authorization": "Bearer hgt_nope_nope"})
    assert bad_token.content == unknown.content and bad_token.status_code == 404


async def test_the_default_page_is_the_first_public_page(client: Any, gql: Any) -> None:
    assert (await client.get("/api/v2/status.json")).status_code == 404
    await create_page(gql, "inside", "Inside", visibility="INTERNAL")
    assert (await client.get("/api/v2/status.json")).status_code == 404
    await create_page(gql, "outside", "Outside")
    body = (await client.get("/api/v2/status.json")).json()
    assert body["page"]["name"] == "Outside"
    assert body["status"]["indicator"] == "none"


async def test_a_signed_in_member_reads_internal_json_with_the_session_cookie(
        client: Any, gql: Any) -> None:
    from resolvers.account import create_user
    from resolvers.session import COOKIE_NAME, sign_in

    await create_page(gql, "ops", "Ops", visibility="INTERNAL")
    await create_user(email="member@example.com", password="member password 1")
    signed = await sign_in(email="member@example.com", password="member password 1")
    try:
        client.cookies.set(COOKIE_NAME, signed.cookie)
        response = await client.get("/p/ops/api/v2/status.json")
        assert response.status_code == 200 and response.json()["page"]["name"] == "Ops"
        assert "access-control-allow-origin" not in response.headers
        client.cookies.set(COOKIE_NAME, signed.cookie + "x")
        forged = await client.get("/p/ops/api/v2/status.json")
        assert forged.status_code == 404
    finally:
        client.cookies.clear()


RETROSPECTIVE = """
mutation($input: CreateRetrospectiveEventInput!) {
  createRetrospectiveEvent(input: $input) {
    __typename ... on CreateRetrospectiveEventPayload { event { id } } ... on Error { message }
  }
}"""
DELETE = """
mutation($input: DeleteEventInput!) {
  deleteEvent(input: $input) { __typename ... on Error { message } }
}"""


async def test_retrospective_and_deleted_events(client: Any, gql: Any,
                                                shared: AppState) -> None:
    page_id = await create_page(gql, "acme", "Acme")
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    api = (await gql(CREATE_COMPONENT, {"input": {
        "pageId": page_id, "name": "API", "since": (began - timedelta(days=1)).isoformat()}})
           )["data"]["createComponent"]["component"]["id"]
    result = (await gql(RETROSPECTIVE, {"input": {
        "pageId": page_id, "kind": "INCIDENT", "title": "Outage last week",
        "startedAt": began.isoformat(), "endedAt": (began + timedelta(hours=2)).isoformat(),
        "components": [{"componentId": api, "impact": "FULL_OUTAGE"}],
        "updates": [
            {"at": began.isoformat(), "status": "INVESTIGATING", "message": "Down."},
            {"at": (began + timedelta(hours=2)).isoformat(), "status": "RESOLVED",
             "message": "Back."},
        ]}}))["data"]["createRetrospectiveEvent"]
    assert "event" in result, result
    event_id = result["event"]["id"]
    body = (await client.get("/p/acme/api/v2/incidents.json")).json()
    assert validator("incidents.json").is_valid(body)
    [incident] = body["incidents"]
    assert incident["status"] == "resolved" and incident["impact"] == "critical"
    assert datetime.fromisoformat(incident["started_at"]) == began
    assert datetime.fromisoformat(incident["resolved_at"]) == began + timedelta(hours=2)
    assert [datetime.fromisoformat(u["display_at"]) for u in incident["incident_updates"]] == [
        began + timedelta(hours=2), began]
    etag = (await client.get("/p/acme/api/v2/incidents.json")).headers["etag"]

    assert (await gql(DELETE, {"input": {"eventId": event_id}}))["data"]["deleteEvent"][
        "__typename"] == "DeleteEventPayload"
    await after_render(client, shared, "/p/acme/api/v2/incidents.json")
    after = await client.get("/p/acme/api/v2/incidents.json", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.json()["incidents"] == []


async def test_concurrent_readers_share_one_read_of_the_page(client: Any, gql: Any,
                                                             shared: AppState,
                                                             monkeypatch: Any) -> None:
    import asyncio

    import web.readcache as readcache

    world = await build_world(gql)
    reads: list[str] = []
    real = readcache.snapshot

    async def counted(*, page_id: str) -> Any:
        reads.append(page_id)
        return await real(page_id=page_id)

    monkeypatch.setattr(readcache, "snapshot", counted)
    paths = [f"/p/acme/api/v2/{name}" for name in ENDPOINTS] * 3
    responses = await asyncio.gather(*(client.get(path) for path in paths))
    assert all(r.status_code == 200 for r in responses)
    assert reads == [world.page_id]  # one snapshot for every body of this sequence

    await post_update(gql, world.events["active"], "RESOLVED", "Done.")
    await asyncio.gather(*(client.get(path) for path in paths))
    # The new sequence's renders; meanwhile the previous bodies answered.
    await shared.read_cache.idle()
    responses = await asyncio.gather(*(client.get(path) for path in paths))
    assert reads == [world.page_id] * 2
    assert all(r.status_code == 200 and "Done." in r.text for r in responses
               if "incidents.json" in str(r.url))


UPDATE_PAGE = """
mutation($input: UpdatePageInput!) {
  updatePage(input: $input) { __typename ... on Error { message } }
}"""


async def test_a_local_change_is_served_at_once_even_under_a_new_slug(
        client: Any, gql: Any, shared: AppState) -> None:
    page_id = await create_page(gql, "acme", "Acme")
    assert (await client.get("/p/acme/api/v2/status.json")).status_code == 200
    assert (await client.get("/p/renamed/api/v2/status.json")).status_code == 404
    await gql(UPDATE_PAGE, {"input": {"id": page_id, "slug": "renamed", "name": "Renamed"}})
    await after_render(client, shared, "/p/renamed/api/v2/status.json")
    renamed = await client.get("/p/renamed/api/v2/status.json")
    assert renamed.status_code == 200 and renamed.json()["page"]["name"] == "Renamed"
    assert (await client.get("/p/acme/api/v2/status.json")).status_code == 404
    await gql(UPDATE_PAGE, {"input": {"id": page_id, "visibility": "INTERNAL"}})
    assert (await client.get("/p/renamed/api/v2/status.json")).status_code == 404


async def test_default_page_setting_names_the_page_at_the_root(client: Any, gql: Any,
                                                               shared: AppState,
                                                               admin_token: str) -> None:
    import os

    from settings import reset_settings

    await create_page(gql, "first", "First")
    await create_page(gql, "ops", "Ops", visibility="INTERNAL")
    os.environ["DEFAULT_PAGE"] = "ops"
    reset_settings()
    shared.read_cache.clear()
    try:
        assert (await client.get("/api/v2/status.json")).status_code == 404
        signed = await client.get("/api/v2/status.json",
                                  headers={"Authorization": f"Bearer {admin_token}"})
        assert signed.status_code == 200 and signed.json()["page"]["name"] == "Ops"
        assert (await client.get("/history.atom")).status_code == 404
    finally:
        del os.environ["DEFAULT_PAGE"]
        reset_settings()
        shared.read_cache.clear()
    assert (await client.get("/api/v2/status.json")).json()["page"]["name"] == "First"
