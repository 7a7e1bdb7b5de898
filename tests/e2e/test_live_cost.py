"""Cost limits on a real server: a looping document is refused while /healthz keeps answering,
and a subscription document over its (smaller) budget is refused over a real websocket while
the status page's own live document streams."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from gql.transport.exceptions import TransportQueryError

from schema.cost import MAX_SUBSCRIPTION_COST
from tests.helpers.server import ROOT, running_server
from tests.realtime.client import subscribe
from tests.schema.test_cost import GROUP_LOOP, PAGE_LOOP, big_page

pytestmark = pytest.mark.e2e

# Fine as a query; executed again on every change of the page, too much for a subscription.
PAGE_PART = "components { id dailyBars { date status } }"
HEAVY_LIVE = ("subscription($slug: String!) { pageUpdates(slug: $slug) { sequence page { "
              + PAGE_PART + " } } }")
HEAVY_QUERY = "query($slug: String!) { page(slug: $slug) { " + PAGE_PART + " } }"


def live_script_document() -> str:
    """The document web/static/live.js subscribes with."""
    script = (ROOT / "web/static/live.js").read_text()
    found = re.search(r"DOCUMENT =\s*((?:\"[^\"]*\"\s*\+?\s*)+);", script)
    assert found, "live.js's DOCUMENT not found"
    return "".join(re.findall(r"\"([^\"]*)\"", found.group(1)))


async def test_healthz_answers_while_looping_documents_are_sent(admin: Any,
                                                                admin_token: str) -> None:
    await big_page(admin, components=20, groups=4)
    with running_server() as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:

            async def loop(document: str, token: str | None) -> dict[str, Any]:
                headers = {"authorization": f"Bearer {token}"} if token else {}
                response = await http.post("/graphql", json={"query": document},
                                           headers=headers)
                body: dict[str, Any] = response.json()
                return body

            sent = [asyncio.create_task(loop(doc, token))
                    for doc in (PAGE_LOOP, GROUP_LOOP) for token in (None, admin_token)]
            health = await http.get("/healthz")  # a 10 s liveness deadline (the timeout)
            assert health.status_code == 200
            for answer in await asyncio.gather(*sent):
                assert answer["data"] is None, answer
                assert answer["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
            assert (await http.get("/healthz")).status_code == 200


async def test_a_subscription_over_its_budget_is_refused_over_a_websocket(admin: Any) -> None:
    await big_page(admin, components=200, groups=10)
    with running_server() as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            as_query = (await http.post("/graphql", json={"query": HEAVY_QUERY,
                                                          "variables": {"slug": "big"}})).json()
            assert "errors" not in as_query and len(as_query["data"]["page"]["components"]) == 200
        async with subscribe(base, HEAVY_LIVE, {"slug": "big"}) as stream:
            with pytest.raises(TransportQueryError) as caught:
                await stream.next()
        error = (caught.value.errors or [{}])[0]
        assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error
        assert error["extensions"]["budget"] == MAX_SUBSCRIPTION_COST
        assert error["extensions"]["cost"] > MAX_SUBSCRIPTION_COST
        async with subscribe(base, live_script_document(), {"slug": "big"}) as stream:
            snapshot = (await stream.next())["pageUpdates"]
        assert snapshot["kind"] == "SNAPSHOT" and len(snapshot["page"]["components"]) == 200
