"""JSON endpoints answer JSON on every error: unknown paths, wrong methods, a database that
cannot be read (with no last good state: 503), unexpected exceptions (500)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from resolvers.demo import load_demo
from web import readcache
from web.appstate import AppState

pytestmark = pytest.mark.usefixtures("db")


async def test_unknown_json_paths_and_wrong_methods_answer_json(client: Any) -> None:
    for path in ("/api/v2/nosuch.json", "/p/demo/api/v2/nosuch.json", "/api/v2/"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/json"), path
        assert response.json()["error"] == "not_found", path
    wrong = await client.post("/api/v2/summary.json")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    html = await client.get("/nosuch")  # not a JSON path: Starlette's plain answer
    assert html.status_code == 404 and not html.headers["content-type"].startswith(
        "application/json")


async def test_an_unreadable_database_is_a_json_503_or_the_last_good_state(
    client: Any, shared: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tortoise.exceptions import DBConnectionError

    await load_demo()
    good = await client.get("/p/demo/api/v2/summary.json")
    assert good.status_code == 200 and "x-heliograph-stale" not in good.headers
    assert (await client.get("/p/demo")).status_code == 200

    async def down(**kwargs: Any) -> Any:
        raise DBConnectionError("connection refused")

    monkeypatch.setattr(readcache, "page_meta", down)
    monkeypatch.setattr(readcache, "snapshot", down)
    monkeypatch.setattr(shared.read_cache, "refresh", 0.0)  # re-read the page's sequence now
    stale = await client.get("/p/demo/api/v2/summary.json")
    assert stale.status_code == 200 and stale.content == good.content
    assert stale.headers["x-heliograph-stale"] == "1"
    assert "stale" in stale.headers["warning"].lower()
    never = await client.get("/p/demo/api/v2/incidents.json")
    assert never.status_code == 503 and never.json()["error"] == "unavailable"
    page = await client.get("/p/demo")
    assert page.status_code == 200 and "may be out of date" in page.text
    assert "Heliograph Demo" in page.text
    home = await client.get("/")  # never rendered while the database answered
    assert home.status_code == 503 and "Temporarily unavailable" in home.text


async def test_an_unexpected_exception_in_a_json_endpoint_is_a_json_500(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(request: Any) -> Any:
        raise RuntimeError("a bug")

    route = next(r for r in app.router.routes if getattr(r, "path", "") ==
                 "/p/{slug}/bars/{item_id}/{date}")
    from starlette.routing import request_response

    monkeypatch.setattr(route, "app", request_response(broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        response = await c.get("/p/demo/bars/x/2026-01-01")
    assert response.status_code == 500
    assert response.json() == {"error": "internal", "message": "Internal server error"}
