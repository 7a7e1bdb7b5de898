"""History and event pages while the database cannot be read (web/page_stale.py): an anonymous
visitor of a public page gets its last rendering under the "may be out of date" notice; a page
never rendered, a signed-in visitor, an internal page or a page made internal since get the 503
page and nothing of the page. Here the database "goes away" under tortoise's client (every
statement refused); tests/e2e/test_database_down.py cuts a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from tortoise import connections

from models.base import utcnow
from tests.schema.test_availability_api import CREATE_PAGE, D, H, retrospective
from web.appstate import AppState
from web.readcache import ReadCache

UPDATE_PAGE = """
mutation($input: UpdatePageInput!) { updatePage(input: $input) { __typename } }"""


@contextmanager
def database_gone(monkeypatch: pytest.MonkeyPatch, read_cache: ReadCache) -> Iterator[None]:
    client = connections.get("default")

    async def refused(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("the database went away")

    with monkeypatch.context() as patch:
        for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_many"):
            patch.setattr(client, name, refused)
        patch.setattr(read_cache, "refresh", 0.0)  # past the once-a-second re-read
        yield


async def test_history_and_event_pages_stay_up_and_leak_nothing(
        gql: Any, client: Any, shared: AppState, admin_token: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    pages = {}
    for slug, visibility in (("acme", "PUBLIC"), ("staff", "INTERNAL")):
        created = await gql(CREATE_PAGE, {"input": {"slug": slug, "name": slug.title(),
                                                    "visibility": visibility}})
        pages[slug] = created["data"]["createPage"]["page"]["id"]
    moment = utcnow() - 3 * D
    public = await retrospective(gql, pages["acme"], "INCIDENT", "Public hiccup", [
        (moment, "INVESTIGATING", {}), (moment + H, "RESOLVED", {})])
    secret = await retrospective(gql, pages["staff"], "INCIDENT", "Secret vault outage", [
        (moment, "INVESTIGATING", {}), (moment + H, "RESOLVED", {})])
    member = {"authorization": f"Bearer {admin_token}"}
    month = moment.strftime("%Y-%m")
    reads = [f"/p/acme/history?month={month}", f"/p/acme/events/{public}"]
    good = {path: await client.get(path) for path in reads}
    assert all(r.status_code == 200 and "Public hiccup" in r.text for r in good.values())
    for path in reads:  # signed in, the account menu names the visitor
        assert "admin@example.com" in (await client.get(path, headers=member)).text
    for path in (f"/p/staff/history?month={month}", f"/p/staff/events/{secret}"):
        assert "Secret vault" in (await client.get(path, headers=member)).text
        assert (await client.get(path)).status_code == 404

    with database_gone(monkeypatch, shared.read_cache):
        for path in reads:
            stale = await client.get(path)
            assert stale.status_code == 200, path
            assert "may be out of date" in stale.text and "Public hiccup" in stale.text
            assert "admin@example.com" not in stale.text  # an anonymous rendering
            assert stale.headers["x-heliograph-stale"] == "1"
        never = await client.get("/p/acme/history?month=2001-01")
        assert never.status_code == 503 and "Temporarily unavailable" in never.text
        signed_in = await client.get(reads[0], headers=member)
        assert signed_in.status_code == 503 and "Public hiccup" not in signed_in.text
        for path in (f"/p/staff/history?month={month}", f"/p/staff/events/{secret}"):
            for headers in ({}, member):
                hidden = await client.get(path, headers=headers)
                assert hidden.status_code in {404, 503} and "Secret" not in hidden.text

    # The public page made internal: what was kept of it is no longer served to anyone.
    await gql(UPDATE_PAGE, {"input": {"id": pages["acme"], "visibility": "INTERNAL"}})
    with database_gone(monkeypatch, shared.read_cache):
        for path in reads:
            hidden = await client.get(path)
            assert hidden.status_code == 503 and "Public hiccup" not in hidden.text

    await gql(UPDATE_PAGE, {"input": {"id": pages["acme"], "visibility": "PUBLIC"}})
    fresh = await client.get(reads[0])  # the database is back: fresh answers, no notice
    assert fresh.status_code == 200 and "may be out of date" not in fresh.text
