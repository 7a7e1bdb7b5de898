"""Anonymous GraphQL reads of public pages are answered from memory, and never stale or leaky.

Given pages built through the API, when anonymous callers repeat a query, then the database
is not asked again; a mutation's change is in the next answer; other documents, variables,
internal pages and signed-in callers are never answered from the cache; memory is bounded."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from statuspage_world import CREATE_INCIDENT, add_component, create_page

from models import StatusPage
from web.appstate import AppState
from web.graphql_cache import ResultCache

PAGE = """
query Page($slug: String!) {
  page(slug: $slug) { name status components { name status availability { ratio } } }
}"""
NAME_ONLY = 'query { page(slug: "acme") { name } }'
UPDATE_PAGE = """
mutation($input: UpdatePageInput!) {
  updatePage(input: $input) { __typename ... on Error { code message } }
}"""


class Statements(logging.Handler):
    """Counts the SQL statements tortoise runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        first = record.getMessage().lstrip().split(" ", 1)[0].upper()
        self.count += first in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}


@contextmanager
def statements() -> Iterator[Statements]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def anonymous(client: Any, query: str, variables: dict[str, Any] | None = None,
                    *, get: bool = False, headers: dict[str, str] | None = None
                    ) -> tuple[dict[str, Any], int]:
    """The answer to an anonymous POST (or GET), and how many SQL statements it cost."""
    with statements() as log:
        if get:
            params = {"query": query, "variables": json.dumps(variables or {})}
            response = await client.get(f"/graphql?{urlencode(params)}", headers=headers)
        else:
            response = await client.post("/graphql", json={"query": query,
                                                           "variables": variables or {}},
                                         headers=headers)
    assert response.status_code == 200, response.text
    return response.json(), log.count


@pytest.fixture
def cache(shared: AppState) -> ResultCache:
    """The test app's cache of anonymous answers (each app makes its own)."""
    return shared.graphql_cache


@pytest.fixture
async def acme(gql: Any) -> dict[str, str]:
    page_id = await create_page(gql, "acme", "Acme")
    return {"page": page_id, "api": await add_component(gql, page_id, "API")}


async def test_a_repeated_anonymous_query_does_not_touch_the_database(
        client: Any, acme: dict[str, str]) -> None:
    for get in (False, True):
        first, _ = await anonymous(client, PAGE, {"slug": "acme"}, get=get)
        again, cost = await anonymous(client, PAGE, {"slug": "acme"}, get=get)
        assert again == first
        assert first["data"]["page"]["components"][0]["name"] == "API"
        assert cost == 0


async def test_a_mutation_is_visible_to_the_next_anonymous_query(
        client: Any, gql: Any, acme: dict[str, str]) -> None:
    before, _ = await anonymous(client, PAGE, {"slug": "acme"})
    assert before["data"]["page"]["status"] == "OPERATIONAL"
    created = await gql(CREATE_INCIDENT, {"input": {
        "pageId": acme["page"], "title": "Down", "message": "API down.",
        "components": [{"componentId": acme["api"], "impact": "FULL_OUTAGE"}]}})
    assert created["data"]["createIncident"]["__typename"] == "CreateIncidentPayload"
    after, _ = await anonymous(client, PAGE, {"slug": "acme"})
    assert after["data"]["page"]["status"] == "FULL_OUTAGE"
    assert after["data"]["page"]["components"][0]["status"] == "FULL_OUTAGE"
    renamed = await gql(UPDATE_PAGE, {"input": {"id": acme["page"], "name": "Acme Corp"}})
    assert renamed["data"]["updatePage"]["__typename"] == "UpdatePagePayload"
    assert (await anonymous(client, NAME_ONLY))[0]["data"]["page"]["name"] == "Acme Corp"


async def test_a_change_made_by_another_process_is_read_from_the_database(
        client: Any, shared: AppState, acme: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert (await anonymous(client, NAME_ONLY))[0]["data"]["page"]["name"] == "Acme"
    # Another process's commit: no local broadcast here, only the row and its sequence.
    page = await StatusPage.get(id=acme["page"])
    await StatusPage.filter(id=page.id).update(name="Elsewhere", sequence=page.sequence + 1)
    monkeypatch.setattr(shared.read_cache, "refresh", 0.0)  # "a second later", without sleeping
    assert (await anonymous(client, NAME_ONLY))[0]["data"]["page"]["name"] == "Elsewhere"


async def test_documents_and_variables_are_different_entries(
        client: Any, gql: Any, acme: dict[str, str], cache: ResultCache) -> None:
    await add_component(gql, await create_page(gql, "beta", "Beta"), "Mail")
    acme_page, _ = await anonymous(client, PAGE, {"slug": "acme"})
    beta_page, _ = await anonymous(client, PAGE, {"slug": "beta"})
    name_only, _ = await anonymous(client, NAME_ONLY)
    assert acme_page["data"]["page"]["components"][0]["name"] == "API"
    assert beta_page["data"]["page"]["components"][0]["name"] == "Mail"
    assert name_only == {"data": {"page": {"name": "Acme"}}}
    assert len(cache) == 3
    again, cost = await anonymous(client, PAGE, {"slug": "beta"})
    assert (again, cost) == (beta_page, 0)


async def test_internal_pages_are_never_cached(client: Any, gql: Any,
                                               cache: ResultCache) -> None:
    await add_component(gql, await create_page(gql, "inside", "Inside", visibility="INTERNAL"),
                        "Secret API")
    member = await gql(PAGE, {"slug": "inside"})  # signed in: the page, computed for them
    assert member["data"]["page"]["name"] == "Inside"
    for _ in range(2):
        body, cost = await anonymous(client, PAGE, {"slug": "inside"})
        assert body["data"] == {"page": None}
        assert cost > 0
    assert len(cache) == 0


async def test_signed_in_callers_and_other_root_fields_are_executed_each_time(
        client: Any, gql: Any, admin_token: str, acme: dict[str, str],
        cache: ResultCache) -> None:
    bearer = {"authorization": f"Bearer {admin_token}"}
    session_cookie = {"cookie": "heliograph_session=whatever", "origin": "http://testserver"}
    for headers in (bearer, session_cookie):
        for _ in range(2):
            _, cost = await anonymous(client, PAGE, {"slug": "acme"}, headers=headers)
            assert cost > 0
    assert (await anonymous(client, '{ viewer { id } }'))[0] == {"data": {"viewer": None}}
    for document in ('{ pages { name } }', '{ page(slug: "acme") { name } pages { name } }',
                     'query { ...Root } fragment Root on Query { page(slug: "acme") { name } }'):
        for _ in range(2):
            body, cost = await anonymous(client, document)
            assert "errors" not in body
            assert cost > 0, document
    assert len(cache) == 0


async def test_unknown_pages_and_errors_are_not_remembered(
        client: Any, acme: dict[str, str], cache: ResultCache) -> None:
    for _ in range(2):
        assert (await anonymous(client, PAGE, {"slug": "nosuch"}))[0]["data"] == {"page": None}
        body, _ = await anonymous(client, 'query { page(slug: "acme") { nosuchField } }')
        assert body["errors"]
    assert len(cache) == 0


async def test_memory_is_bounded_by_a_byte_budget(client: Any, acme: dict[str, str],
                                                  cache: ResultCache,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = await anonymous(client, NAME_ONLY)
    one_entry = cache.size
    monkeypatch.setattr(cache, "budget", one_entry * 3 + 64)
    for n in range(10):  # ten different documents, each worth an entry of the same size
        await anonymous(client, f'query Q{n} {{ page(slug: "acme") {{ name }} }}')
        assert cache.size <= cache.budget
    assert len(cache) == 3
    body, cost = await anonymous(client, NAME_ONLY)  # the oldest entry was evicted
    assert body == first and cost > 0


async def test_figures_that_depend_on_now_expire_on_a_short_clock(
        client: Any, acme: dict[str, str], cache: ResultCache,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "now_seconds", 0.0)  # entries outdated as soon as stored
    await anonymous(client, PAGE, {"slug": "acme"})
    _, cost = await anonymous(client, PAGE, {"slug": "acme"})
    assert cost > 0
