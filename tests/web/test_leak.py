"""The shared leak test: an anonymous caller learns nothing about an internal page.

For every route of the app (discovered from `create_app().routes`, so later routes join by
themselves) the anonymous answer for the internal page's slug / ids equals the answer for an
unknown slug / id (status, content type and body, modulo the substituted text) and contains none
of the page's names. GraphQL root fields are walked the same way, and `pageUpdates` is tried
over a real websocket."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Route, WebSocketRoute

import schema as schema_module
from tests.helpers.server import running_server

SECRETS = ("Zebra Secret Ops", "Quetzal", "Narwhal", "Ocelot", "Platypus", "Wombat")
SLUG = "zebra-ops"
UNKNOWN_SLUG = "nosuch-ops"  # same length: texts that embed the slug keep their shape
UNKNOWN_ID = "zzzzzzzzzzzzzzzzzzzz"
PLACEHOLDER = "<X>"


@dataclass
class Internal:
    page_id: str
    component_id: str
    group_id: str
    event_id: str
    update_id: str


async def admin_call(gql: Any, name: str, input_type: str, variables: dict[str, Any],
                     select: str) -> dict[str, Any]:
    body = await gql(f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
                     f"... on Error {{ code message }} {select} }} }}", {"input": variables})
    result = body["data"][name]
    assert result["__typename"].endswith("Payload"), result
    return dict(result)


@pytest.fixture
async def internal(gql: Any) -> Internal:
    page = await admin_call(gql, "createPage", "CreatePageInput", {
        "slug": SLUG, "name": "Zebra Secret Ops", "visibility": "INTERNAL",
        "description": "Quetzal description"}, "... on CreatePagePayload { page { id } }")
    page_id = page["page"]["id"]
    group = await admin_call(gql, "createComponentGroup", "CreateComponentGroupInput", {
        "pageId": page_id, "name": "Ocelot group"},
        "... on CreateComponentGroupPayload { group { id } }")
    component = await admin_call(gql, "createComponent", "CreateComponentInput", {
        "pageId": page_id, "name": "Narwhal API", "groupId": group["group"]["id"]},
        "... on CreateComponentPayload { component { id } }")
    component_id = component["component"]["id"]
    event = await admin_call(gql, "createIncident", "CreateIncidentInput", {
        "pageId": page_id, "title": "Platypus outage", "message": "Wombat message",
        "components": [{"componentId": component_id, "impact": "PARTIAL_OUTAGE"}],
        "notify": False}, "... on CreateIncidentPayload { event { id updates { id } } }")
    await admin_call(gql, "scheduleMaintenance", "ScheduleMaintenanceInput", {
        "pageId": page_id, "title": "Platypus upgrade", "message": "Wombat window",
        "scheduledStart": "2099-01-01T00:00:00Z", "scheduledEnd": "2099-01-01T01:00:00Z",
        "componentIds": [component_id], "notify": False},
        "... on ScheduleMaintenancePayload { event { id } }")
    return Internal(page_id=page_id, component_id=component_id,
                    group_id=group["group"]["id"], event_id=event["event"]["id"],
                    update_id=event["event"]["updates"][0]["id"])


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{where} leaks {secret!r}"


def routes() -> list[tuple[str, str]]:
    from web.app import create_app

    found: list[tuple[str, str]] = []
    from web.page_formats import FormatRoutes

    listed: list[Any] = []
    for route in create_app().routes:  # the page formats sit behind one route: list theirs
        listed.extend(route.routes if isinstance(route, FormatRoutes) else [route])
    for route in listed:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((method, route.path))
        elif isinstance(route, (Mount, WebSocketRoute)):
            continue  # static files hold no page data; the websocket is tested below
    return found


PARAMS = {
    "slug": ("slug", UNKNOWN_SLUG),
    "component_id": ("component_id", UNKNOWN_ID),
    "event_id": ("event_id", UNKNOWN_ID),
    "update_id": ("update_id", UNKNOWN_ID),
    "group_id": ("group_id", UNKNOWN_ID),
    "page_id": ("page_id", UNKNOWN_ID),
}


def fill(path: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return values.get(name, "x")
    return re.sub(r"\{([^}]+)\}", one, path)


def normalise(text: str, substituted: list[str]) -> str:
    for value in substituted:
        text = text.replace(value, PLACEHOLDER)
    return text


def test_routes_are_discovered() -> None:
    paths = {path for _, path in routes()}
    assert "/graphql" in paths and "/healthz" in paths


async def _anonymous(client: httpx.AsyncClient, method: str, url: str) -> httpx.Response:
    if method == "POST":
        return await client.post(url, data={"email": "leak@example.com"},
                                 headers={"origin": "http://testserver"})
    return await client.get(url)


async def test_every_route_answers_an_internal_page_like_an_unknown_one(
        client: httpx.AsyncClient, internal: Internal) -> None:
    real = {"slug": SLUG, "component_id": internal.component_id,
            "event_id": internal.event_id, "update_id": internal.update_id,
            "group_id": internal.group_id, "page_id": internal.page_id}
    fake = {"slug": UNKNOWN_SLUG, **{k: UNKNOWN_ID for k in real if k != "slug"}}
    checked = 0
    for method, path in routes():
        if path == "/graphql":
            continue  # walked field by field below
        names = [m.split(":")[0] for m in re.findall(r"\{([^}]+)\}", path)]
        a = await _anonymous(client, method, fill(path, real))
        assert a.status_code < 500, (method, path, a.text[:500])
        assert_no_secret(a.text, f"{method} {path}")
        assert_no_secret(json.dumps(dict(a.headers)), f"{method} {path} headers")
        if not any(n in real for n in names):
            continue
        b = await _anonymous(client, method, fill(path, fake))
        used = [real[n] for n in names if n in real] + [fake[n] for n in names if n in fake]
        assert (a.status_code, a.headers.get("content-type")) == (
            b.status_code, b.headers.get("content-type")), (method, path)
        assert normalise(a.text, used) == normalise(b.text, used), (method, path)
        location = (a.headers.get("location"), b.headers.get("location"))
        assert normalise(str(location[0]), used) == normalise(str(location[1]), used)
        checked += 1
    assert checked >= 1


PAGE_DEEP = """
query($slug: String!) { page(slug: $slug) { id name description components { name }
  groups { name } events { nodes { title } } } }"""


async def test_graphql_shows_nothing_of_an_internal_page(
        gql: Any, internal: Internal) -> None:
    page = await gql(PAGE_DEEP, {"slug": SLUG}, token="")
    assert page == {"data": {"page": None}}
    pages = await gql("{ pages { slug name } }", token="")
    assert pages == {"data": {"pages": []}}
    event = await gql("query($id: ID!) { event(id: $id) { title updates { message } } }",
                      {"id": internal.event_id}, token="")
    assert event == {"data": {"event": None}}
    # A signed-in member (no role) sees it: the page exists.
    member = await gql(PAGE_DEEP, {"slug": SLUG})
    assert member["data"]["page"]["name"] == "Zebra Secret Ops"


def _arguments(field: Any, value: str) -> tuple[str, dict[str, Any]] | None:
    """A call of a root field with every required ID / String argument set to `value`."""
    from graphql import GraphQLNonNull, Undefined, get_named_type

    parts, variables = [], {}
    for arg_name, arg in field.args.items():
        named = get_named_type(arg.type).name
        if not isinstance(arg.type, GraphQLNonNull) or arg.default_value is not Undefined:
            continue  # optional
        if named not in ("ID", "String"):
            return None
        parts.append(f"{arg_name}: \"{value}\"")
        variables[arg_name] = value
    return (f"({', '.join(parts)})" if parts else ""), variables


async def test_every_graphql_root_field_answers_internal_ids_like_unknown_ones(
        gql: Any, internal: Internal) -> None:
    from graphql import get_named_type, is_leaf_type

    fields = schema_module.build_schema()._schema.query_type.fields  # type: ignore[union-attr]
    values = [SLUG, internal.page_id, internal.event_id, internal.component_id,
              internal.update_id]
    called: set[str] = set()
    for name, field in fields.items():
        selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
        for value in values:
            real = _arguments(field, value)
            fake = _arguments(field, UNKNOWN_SLUG if value == SLUG else UNKNOWN_ID)
            if real is None or fake is None:
                continue
            called.add(name)
            a = await gql(f"{{ {name}{real[0]}{selection} }}", token="", expect_errors=True)
            b = await gql(f"{{ {name}{fake[0]}{selection} }}", token="", expect_errors=True)
            assert_no_secret(json.dumps(a), name)
            used = [value, UNKNOWN_SLUG if value == SLUG else UNKNOWN_ID]
            assert normalise(json.dumps(a), used) == normalise(json.dumps(b), used), name
    assert {"page", "event"} <= called


@pytest.mark.e2e
async def test_page_updates_over_a_websocket_refuse_an_internal_page(
        internal: Internal) -> None:
    import websockets

    async def first_messages(base: str, slug: str) -> list[dict[str, Any]]:
        url = base.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"],
                                      origin=base) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": "subscription($s: String!) { pageUpdates(slug: $s) { sequence kind "
                         "page { name components { name } } } }", "variables": {"s": slug}}}))
            received = []
            try:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=3))
                    received.append(message)
                    if message["type"] in ("complete", "error"):
                        break
            except TimeoutError:
                pass
            return received

    with running_server() as base:
        internal_answer = await first_messages(base, SLUG)
        unknown_answer = await first_messages(base, UNKNOWN_SLUG)
    assert_no_secret(json.dumps(internal_answer), "pageUpdates")
    used = [SLUG, UNKNOWN_SLUG]
    assert normalise(json.dumps(internal_answer), used) == normalise(
        json.dumps(unknown_answer), used)
    assert internal_answer, "the server answered nothing"
