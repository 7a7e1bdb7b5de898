"""Served when the database is down, by a process that never served the page: two uvicorn
processes share Redis; the first serves the demo page, its JSON and history; the database goes
away (a TCP proxy cut); the second answers them from the last good state the first kept in
Redis (web/stale_shared.py), marked stale, and its `/graphql` answers 503 UNAVAILABLE.

PostgreSQL + Redis only."""

from __future__ import annotations

import os
import time
from urllib.parse import urlparse

import httpx
import pytest

from tests.conftest import TEST_DB, TEST_REDIS
from tests.e2e.test_database_down import Proxy, _url, cli, throwaway_database, until
from tests.helpers.server import free_port, running_server

pytestmark = [pytest.mark.pgserver, pytest.mark.redis, pytest.mark.skipif(
    not (TEST_DB and TEST_REDIS), reason="needs PostgreSQL and Redis (the PostgreSQL pass)")]

READS = ["/p/demo", "/p/demo/api/v2/summary.json", "/p/demo/api/v2/components.json",
         "/p/demo/history.atom", "/p/demo/history", "/p/demo/widget"]


def test_a_process_that_never_served_the_page_answers_from_redis() -> None:
    target = urlparse(_url("postgres"))
    port = free_port()
    proxy = Proxy((target.hostname or "127.0.0.1", target.port or 5432), port)
    proxy.start()
    with throwaway_database() as name:
        env = {**os.environ, "DATABASE_URL": _url(name), "BROADCAST_URL": TEST_REDIS}
        cli(env, "migrate")
        cli(env, "demo")
        # One public address for both, as behind one proxy (the bodies name it).
        server = {"DATABASE_URL": _url(name, port), "BROADCAST_URL": TEST_REDIS,
                  "SERVER_BASE_URL": "http://status.test"}
        with running_server(server) as first, running_server(server) as second:
            good = {path: httpx.get(first + path, timeout=30) for path in READS}
            assert all(r.status_code == 200 for r in good.values())
            time.sleep(0.5)  # the first process's writes to Redis run in the background

            proxy.cut()
            until(lambda: httpx.get(f"{second}/readyz", timeout=30).status_code == 503)
            for path in READS:
                stale = httpx.get(second + path, timeout=30)
                assert stale.status_code == 200, path
                assert stale.headers["x-heliograph-stale"] == "1", path
            page = httpx.get(f"{second}/p/demo", headers={"accept-language": "zh-CN"},
                             timeout=30)
            assert page.status_code == 200 and "Heliograph Demo" in page.text
            summary = httpx.get(f"{second}/p/demo/api/v2/summary.json", timeout=30)
            assert summary.content == good["/p/demo/api/v2/summary.json"].content
            answer = httpx.post(f"{second}/graphql", timeout=30,
                                json={"query": '{ page(slug: "demo") { name } }'})
            assert answer.status_code == 503
            assert answer.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
            never = httpx.get(f"{second}/p/nosuch/api/v2/summary.json", timeout=30)
            assert never.status_code == 503 and never.json()["error"] == "unavailable"
