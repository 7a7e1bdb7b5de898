"""The last good state beyond what one process rendered (web/stale_shared.py, issue 13 item 4):
with Redis, a second app that never served a page answers its status page, summary.json, feeds,
history and widget from what the first one kept there; a language never rendered falls back to
the page's own; a custom domain's root is the page's `/p/{slug}`. Internal pages are never
kept in Redis nor served from it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from resolvers import domains
from settings import get_settings
from tests.conftest import TEST_REDIS
from tests.web.test_domains import make_page
from tests.web.test_page_stale import database_gone
from web.app import create_app
from web.appstate import AppState, app_state

CHINESE = {"accept-language": "zh-CN,zh;q=0.9"}
FORMATS = ["/p/demo/api/v2/summary.json", "/p/demo/api/v2/components.json",
           "/p/demo/history.atom", "/p/demo/widget"]


@pytest.fixture
async def other_client(db: str) -> AsyncIterator[tuple[httpx.AsyncClient, AppState]]:
    """A second web process: its own app and caches, the same database and Redis."""
    other = create_app(get_settings(), manage_database=False)
    transport = httpx.ASGITransport(app=other)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c, app_state(other)
    await app_state(other).read_cache.shared.close()


async def _served(client: httpx.AsyncClient, shared: AppState, paths: list[str]) -> None:
    for path in paths:
        assert (await client.get(path)).status_code == 200, path
    await shared.read_cache.idle()
    await shared.read_cache.shared.settled()


@pytest.mark.redis
@pytest.mark.skipif(not TEST_REDIS, reason="needs Redis (the PostgreSQL + Redis pass)")
async def test_a_process_that_never_served_the_page_answers_from_redis(
        gql: Any, client: httpx.AsyncClient, shared: AppState,
        other_client: tuple[httpx.AsyncClient, AppState],
        monkeypatch: pytest.MonkeyPatch) -> None:
    await make_page(gql, "demo", domains=["status.example.com"])
    await make_page(gql, "staff", visibility="INTERNAL")
    await _served(client, shared, ["/p/demo", "/p/demo/history", *FORMATS])
    second, second_shared = other_client
    assert shared.read_cache.shared.enabled

    with database_gone(monkeypatch, shared.read_cache):
        domains.clear()  # as in a process that never read the page domains: Redis has them
        for headers in ({}, {"host": "status.example.com"}, CHINESE):
            page = await second.get("/p/demo" if "host" not in headers else "/",
                                    headers=headers)
            assert page.status_code == 200, headers
            assert "may be out of date" in page.text and "Demo" in page.text
            assert page.headers["x-heliograph-stale"] == "1"
        history = await second.get("/p/demo/history")
        assert history.status_code == 200 and "may be out of date" in history.text
        for path in FORMATS:
            answer = await second.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["x-heliograph-stale"] == "1", path
        assert (await second.get("/p/demo/api/v2/summary.json")).json()["page"]["name"] \
            == "Demo"
        staff = await second.get("/p/staff")
        assert staff.status_code in {404, 503} and "Staff" not in staff.text
        summary = await second.get("/p/staff/api/v2/summary.json")
        assert summary.status_code == 503 and summary.headers["content-type"].startswith(
            "application/json")
    assert second_shared.last_good.size == 0  # nothing of its own: all from Redis


async def test_a_language_never_rendered_gets_the_page_language_under_the_notice(
        gql: Any, client: httpx.AsyncClient, shared: AppState,
        monkeypatch: pytest.MonkeyPatch) -> None:
    await make_page(gql, "demo", domains=["status.example.com"])
    await _served(client, shared, ["/p/demo", "/p/demo/history", "/p/demo/widget"])
    with database_gone(monkeypatch, shared.read_cache):
        for path in ("/p/demo", "/p/demo/history", "/p/demo/widget"):
            stale = await client.get(path, headers=CHINESE)
            assert stale.status_code == 200, path
            assert "Demo" in stale.text and stale.headers["x-heliograph-stale"] == "1"
        page = await client.get("/p/demo", headers=CHINESE)
        assert "may be out of date" in page.text  # the notice in the page's language
        root = await client.get("/", headers={"host": "status.example.com"})
        assert root.status_code == 200 and "may be out of date" in root.text
        widget = await client.get("/p/demo/widget")
        assert widget.status_code == 200 and widget.headers["x-heliograph-stale"] == "1"
