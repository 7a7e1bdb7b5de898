"""`/graphql` answers every error outside execution in GraphQL-shaped JSON
(`{"errors": [{"message", "extensions": {"code"}}]}`), the database down included (503
UNAVAILABLE); the subscribe form gets the "Temporarily unavailable" page and `/metrics` what it
can (web/errors.py, web/graphql.py, web/pages.py, web/metrics.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.test_domains import make_page
from tests.web.test_page_stale import database_gone
from web import metrics as metrics_endpoint
from web.appstate import AppState

pytestmark = pytest.mark.usefixtures("db")
JSON = {"content-type": "application/json"}


def graphql_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == code, errors
    message: str = errors[0]["message"]
    assert message
    return message


async def test_refusals_before_execution_are_graphql_shaped(client: httpx.AsyncClient) -> None:
    graphql_error(await client.post("/graphql", content=b"{bad json", headers=JSON),
                  400, "BAD_REQUEST")
    unknown = await client.post("/graphql", headers=JSON, json={
        "query": "query A { pages { id } }", "operationName": "Nope"})
    graphql_error(unknown, 400, "BAD_REQUEST")
    # No query: 400 (404 for a client that accepts HTML in production, where GraphiQL is off;
    # outside production a browser gets GraphiQL).
    graphql_error(await client.get("/graphql", headers={"accept": "application/json"}),
                  400, "BAD_REQUEST")
    for method in ("PUT", "DELETE", "PATCH"):
        graphql_error(await client.request(method, "/graphql"), 405, "METHOD_NOT_ALLOWED")
    fine = await client.post("/graphql", headers=JSON, json={"query": "{ pages { id } }"})
    assert fine.status_code == 200 and "errors" not in fine.json()


async def test_the_database_down(gql: Any, app: Any, shared: AppState,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    await make_page(gql, "demo")
    # Starlette re-raises what reached its error handler, after answering: see the answer.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await _database_down(client, shared, monkeypatch)


async def _database_down(client: httpx.AsyncClient, shared: AppState,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert (await client.get("/metrics")).status_code == 200  # figures read once
    monkeypatch.setattr(metrics_endpoint, "FIGURES_SECONDS", 0.0)  # and re-read at every scrape
    with database_gone(monkeypatch, shared.read_cache):
        query = {"query": '{ page(slug: "demo") { name } }'}
        graphql_error(await client.post("/graphql", headers=JSON, json=query),
                      503, "UNAVAILABLE")
        member = await client.post("/graphql", json=query, headers={
            **JSON, "authorization": "Bearer nosuch"})
        assert member.headers["content-type"].startswith("application/json")
        assert member.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        subscribe = await client.post("/p/demo/subscribe", data={"email": "a@example.com"},
                                      headers={"accept-language": "zh-CN"})
        assert subscribe.status_code == 503
        assert subscribe.headers["content-type"].startswith("text/html")
        assert "暂时无法访问" in subscribe.text  # in the visitor's language
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert "heliograph_database_up 0" in metrics.text
        assert "heliograph_outbox_backlog 0" in metrics.text  # the last figures read
        assert "heliograph_live_subscribers" in metrics.text
    metrics = await client.get("/metrics")
    assert "heliograph_database_up 1" in metrics.text
