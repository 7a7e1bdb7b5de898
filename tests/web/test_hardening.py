"""Bad input cannot hurt the GraphQL endpoint: each abuse is refused with a clear error and the
server answers a normal query right after. Also the CSRF defence for cookie-authenticated
writes, the websocket origin allow-list, and production mode (no introspection, no GraphiQL)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from models import Session, StatusPage
from resolvers.account import create_user
from resolvers.session import COOKIE_NAME, sign_in
from schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from settings import get_settings
from tests.helpers.server import running_server
from web.security import MAX_BODY_BYTES

CREATE_PAGE = ('mutation { createPage(input: {slug: "x", name: "X"}) { __typename '
               '... on Error { code message } } }')


async def still_responsive(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ pages { slug } }"})
    assert response.status_code == 200 and response.json() == {"data": {"pages": []}}


async def graphql_errors(client: httpx.AsyncClient, query: str) -> list[str]:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") is None
    return [e["message"] for e in body["errors"]]


async def test_a_deep_query_is_refused(client: httpx.AsyncClient) -> None:
    inner = "id"
    for _ in range(MAX_DEPTH + 3):
        inner = f"components {{ group {{ {inner} }} }}"
    messages = await graphql_errors(client, f'{{ page(slug: "a") {{ {inner} }} }}')
    assert any("exceeds maximum operation depth" in m for m in messages), messages
    await still_responsive(client)


async def test_hundreds_of_aliases_are_refused(client: httpx.AsyncClient) -> None:
    query = "{ " + " ".join(f"a{i}: pages {{ slug }}" for i in range(300)) + " }"
    messages = await graphql_errors(client, query)
    assert any(f"{MAX_ALIASES}" in m and "alias" in m.lower() for m in messages), messages
    await still_responsive(client)


async def test_a_document_with_too_many_tokens_is_refused(client: httpx.AsyncClient) -> None:
    query = "{ pages { " + "slug " * (MAX_TOKENS + 10) + "} }"
    assert len(query) < MAX_BODY_BYTES
    messages = await graphql_errors(client, query)
    assert any("token" in m.lower() for m in messages), messages
    await still_responsive(client)


async def test_a_huge_document_is_refused_before_parsing(client: httpx.AsyncClient) -> None:
    query = "{ pages { " + "slug " * 300_000 + "} }"
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 413
    assert response.json()["errors"][0]["message"] == (
        f"The request body is limited to {MAX_BODY_BYTES} bytes")
    # A body that lies about its length (or sends none) is counted as it streams.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(200):
            yield b" " * 1024

    streamed = await client.post("/graphql", content=chunks(),
                                 headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    await still_responsive(client)


async def test_a_json_array_batch_is_refused(client: httpx.AsyncClient) -> None:
    batch = [{"query": "{ pages { slug } }"}, {"query": "{ viewer { email } }"}]
    response = await client.post("/graphql", json=batch)
    assert response.status_code == 400
    assert "Batched requests are not supported" in response.json()["errors"][0]["message"]
    await still_responsive(client)


async def test_a_mutation_over_get_is_refused(client: httpx.AsyncClient,
                                              admin_token: str) -> None:
    response = await client.get("/graphql", params={"query": CREATE_PAGE},
                                headers={"authorization": f"Bearer {admin_token}"})
    assert response.status_code == 400  # strawberry's answer
    assert "mutations are not allowed when using get" in response.text.lower()
    assert await StatusPage.all().count() == 0
    query = await client.get("/graphql", params={"query": "{ pages { slug } }"})
    assert query.status_code == 200 and query.json() == {"data": {"pages": []}}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x",
                                          "application/graphql", ""])
async def test_only_json_bodies_are_accepted(client: httpx.AsyncClient, admin_token: str,
                                             content_type: str) -> None:
    response = await client.post("/graphql", content=json.dumps({"query": CREATE_PAGE}),
                                 headers={"content-type": content_type,
                                          "authorization": f"Bearer {admin_token}"})
    assert response.status_code == 415
    assert "application/json" in response.json()["errors"][0]["message"]
    assert await StatusPage.all().count() == 0
    await still_responsive(client)


async def test_malformed_json_and_validation_errors_stay_readable(
        client: httpx.AsyncClient) -> None:
    broken = await client.post("/graphql", content=b'{"query": ',
                               headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "JSON" in broken.text
    messages = await graphql_errors(client, "{ pages { noSuchField } }")
    assert messages == ["Cannot query field 'noSuchField' on type 'StatusPage'."]
    syntax = await graphql_errors(client, "{ pages { ")
    assert syntax[0].startswith("Syntax Error")
    await still_responsive(client)


# ---- the CSRF defence for cookie-authenticated writes ----------------------------------------

@pytest.fixture
async def session_cookie(db: str) -> str:
    user = await create_user(email="csrf@example.com", password="long enough pw",
                             is_admin=True)
    assert user.is_admin
    return (await sign_in(email="csrf@example.com", password="long enough pw")).cookie


async def cookie_post(client: httpx.AsyncClient, cookie: str, headers: dict[str, str]
                      ) -> httpx.Response:
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, cookie, domain="testserver.local")
    try:
        return await client.post("/graphql", json={"query": CREATE_PAGE}, headers=headers)
    finally:
        client.cookies.clear()


@pytest.mark.parametrize("headers", [
    {"origin": "https://evil.example"},
    {"origin": "null"},
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},
    {"referer": "https://evil.example/page"},
    {},
])
async def test_cross_site_cookie_writes_are_refused(client: httpx.AsyncClient,
                                                    session_cookie: str,
                                                    headers: dict[str, str]) -> None:
    response = await cookie_post(client, session_cookie, headers)
    assert response.status_code == 403
    assert "session cookie" in response.json()["errors"][0]["message"]
    assert await StatusPage.all().count() == 0


@pytest.mark.parametrize("headers", [
    {"origin": "http://testserver"},
    {"sec-fetch-site": "same-origin"},
    {"referer": "http://testserver/manage"},
])
async def test_same_origin_cookie_writes_work(client: httpx.AsyncClient, session_cookie: str,
                                              headers: dict[str, str]) -> None:
    response = await cookie_post(client, session_cookie, headers)
    assert response.status_code == 200
    assert response.json()["data"]["createPage"]["__typename"] == "CreatePagePayload"


async def test_bearer_requests_without_a_cookie_need_no_origin(
        client: httpx.AsyncClient, admin_token: str) -> None:
    response = await client.post("/graphql", json={"query": CREATE_PAGE},
                                 headers={"authorization": f"Bearer {admin_token}",
                                          "origin": "https://tool.example"})
    assert response.json()["data"]["createPage"]["__typename"] == "CreatePagePayload"


async def test_listed_origins_may_write_with_a_cookie(db: str, session_cookie: str) -> None:
    from web.app import create_app

    settings = dataclasses.replace(get_settings(),
                                   allowed_origins=("https://console.example",))
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            response = await cookie_post(client, session_cookie,
                                         {"origin": "https://console.example"})
    assert response.json()["data"]["createPage"]["__typename"] == "CreatePagePayload"
    assert await Session.all().count() == 1


# ---- production mode and websockets -------------------------------------------------------

async def test_production_turns_introspection_and_graphiql_off(db: str) -> None:
    from web.app import create_app

    settings = dataclasses.replace(get_settings(), env="production", graphiql=False)
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            introspection = await client.post("/graphql", json={
                "query": "{ __schema { types { name } } }"})
            ide = await client.get("/graphql", headers={"accept": "text/html"})
            normal = await client.post("/graphql", json={"query": "{ pages { slug } }"})
    errors = introspection.json()["errors"]
    assert "introspection" in errors[0]["message"].lower()
    assert "graphiql" not in ide.text.lower() and ide.status_code >= 400
    assert normal.json() == {"data": {"pages": []}}


async def test_development_serves_graphiql(client: httpx.AsyncClient) -> None:
    ide = await client.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()


@pytest.mark.e2e
async def test_websocket_handshakes_from_foreign_origins_are_refused(db: str) -> None:
    import websockets
    from websockets.exceptions import InvalidStatus

    with running_server() as base:
        url = base.replace("http://", "ws://") + "/graphql"
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"],
                                          origin="https://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"],
                                      origin=base) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
