"""A real server process caches the JSON and still serves a change committed elsewhere soon."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from statuspage_world import build_world, post_update

from tests.helpers.server import running_server

pytestmark = [pytest.mark.usefixtures("db"), pytest.mark.e2e]


async def test_a_change_committed_by_another_process_reaches_the_cached_json(
        gql: Any) -> None:
    world = await build_world(gql)
    with running_server() as base:
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            url = "/p/acme/api/v2/summary.json"
            first = await http.get(url)
            assert first.status_code == 200
            etag = first.headers["etag"]
            assert [i["id"] for i in first.json()["incidents"]] == [world.events["active"]]
            assert (await http.get(url, headers={"If-None-Match": etag})).status_code == 304

            # This test process commits the change; the server learns it from the database.
            await post_update(gql, world.events["active"], "RESOLVED", "Fixed for good.")
            committed = time.monotonic()
            deadline = committed + 10  # liveness only: the design bound is one second
            while True:
                response = await http.get(url, headers={"If-None-Match": etag})
                if response.status_code == 200:
                    break
                assert response.status_code == 304
                assert time.monotonic() < deadline, "the change never reached the server"
                await asyncio.sleep(0.05)
            assert response.headers["etag"] != etag
            assert response.json()["incidents"] == []
            print(f"change served {time.monotonic() - committed:.2f}s after commit")

