"""The shortcut for plain fields (schema/plain_fields.py) answers exactly what graphql-core's
own execution answers: the same data, the same key order, the same errors.

Given a page with history, when one document (aliases, fragments, directives, nested plain
objects, lists of plain objects, resolvers beside them) runs with and without the shortcut,
then the two answers are identical."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from models.base import utcnow
from schema import build_schema
from schema.context import Context
from schema.plain_fields import PlainFieldsExecutor
from tests.schema.test_availability_api import build_page, retrospective

D = timedelta(days=1)
H = timedelta(hours=1)

DOCUMENT = """
query Everything($slug: String!, $withGroups: Boolean!, $from: DateTime!, $to: DateTime!) {
  page(slug: $slug) {
    __typename id name
    shown: status
    groups @include(if: $withGroups) {
      id name
      availability(from: $from, to: $to) { ratio downtimeSeconds start end }
      dailyBars(days: 10) { ...Bar }
    }
    components {
      ... on Component { id name }
      since
      group { id name }
      window: availability(from: $from, to: $to) {
        ratio uptimeSeconds maintenanceSeconds totalSeconds start end
        intervals { status eventIds start end component { name } }
      }
      dailyBars(days: 10) {
        ...Bar
        again: date
        events { __typename id title kind status updates { status message } }
        skipped: status @skip(if: true)
      }
    }
  }
}
fragment Bar on DailyBar {
  date status eventIds
  availability { __typename ratio downtimeSeconds maintenanceSeconds }
  events { id title }
}
"""
BROKEN = """
query { page(slug: "acme") { components { name nosuch } } }
"""


async def run(document: str, variables: dict[str, Any]) -> str:
    result = await build_schema(False).execute(document, variable_values=variables,
                                               context_value=Context())
    errors = [(e.message, e.path) for e in result.errors or ()]
    return json.dumps({"data": result.data, "errors": errors})


@pytest.fixture
def without_shortcut(monkeypatch: pytest.MonkeyPatch) -> Any:
    def disable() -> None:
        for name in ("execute_fields", "complete_list_value"):
            monkeypatch.setattr(PlainFieldsExecutor, name,
                                getattr(StrawberryGraphQLCoreExecutionContext, name))

    return disable


async def test_answers_are_identical_with_and_without_the_shortcut(
        gql: Any, without_shortcut: Any) -> None:
    now = utcnow()
    page_id, ids = await build_page(gql, ["API", "Web"], since=now - 20 * D)
    start = now - 5 * D
    await retrospective(gql, page_id, "INCIDENT", "Outage", [
        (start, "INVESTIGATING", {ids["API"]: "FULL_OUTAGE", ids["Web"]: "DEGRADED"}),
        (start + 2 * H, "IDENTIFIED", {ids["API"]: "PARTIAL_OUTAGE"}),
        (start + 3 * H, "RESOLVED", {})])
    await retrospective(gql, page_id, "MAINTENANCE", "Upgrade", [
        (now - 3 * D, "IN_PROGRESS", {ids["Web"]: "UNDER_MAINTENANCE"}),
        (now - 3 * D + H, "COMPLETED", {})])
    variables = {"slug": "acme", "withGroups": True, "from": (now - 8 * D).isoformat(),
                 "to": (now - D).isoformat()}

    fast = await run(DOCUMENT, variables)
    fast_broken = await run(BROKEN, {})
    without_shortcut()
    regular = await run(DOCUMENT, variables)
    regular_broken = await run(BROKEN, {})

    assert '"Outage"' in fast and '"Upgrade"' in fast and '"FULL_OUTAGE"' in fast
    assert fast == regular
    assert fast_broken == regular_broken
    variables["withGroups"] = False
    assert '"groups"' not in await run(DOCUMENT, variables)


BARS = """
query($slug: String!) {
  page(slug: $slug) {
    components {
      name
      dailyBars { date status eventIds availability { ratio downtimeSeconds } }
      recent: dailyBars(days: 7) { date eventIds }
    }
    groups { dailyBars(days: 30) { date status availability { ratio } } }
  }
}
"""


async def test_kept_rows_pre_encoded_over_http_give_the_same_bytes(
        gql: Any, client: Any, admin_token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over HTTP, the past bars' rows stand in the answer as text encoded once
    (schema.plain_rows.RawJSON): the bytes are those of the executor's plain data."""
    from resolvers import availability as figures_module
    from schema import availability as schema_availability

    now = utcnow()
    monkeypatch.setattr(figures_module, "utcnow", lambda: now)
    monkeypatch.setattr(schema_availability, "utcnow", lambda: now)
    page_id, ids = await build_page(gql, ["API", "Web"], since=now - 40 * D)
    start = now - 5 * D
    await retrospective(gql, page_id, "INCIDENT", "Outage \u00e9", [
        (start, "INVESTIGATING", {ids["API"]: "FULL_OUTAGE", ids["Web"]: "DEGRADED"}),
        (start + 2 * H, "RESOLVED", {})])
    plain = await build_schema(False).execute(BARS, variable_values={"slug": "acme"},
                                              context_value=Context())
    assert not plain.errors and plain.data is not None
    expected = json.dumps({"data": plain.data}, separators=(",", ":"))
    for _ in range(2):  # the first answer encodes the kept rows, the second reuses the text
        response = await client.post("/graphql", json={"query": BARS,
                                                       "variables": {"slug": "acme"}},
                                     headers={"authorization": f"Bearer {admin_token}"})
        assert response.text == expected


def test_encode_json_splices_fragments_only() -> None:
    from schema.plain_rows import RawJSON, encode_json

    data = {"a": [RawJSON('{"x":1},{"y":"\\u00e9"}'), {"z": "\x00heliograph-json-0\x00"}],
            "b": "\x00"}
    assert json.loads(encode_json(data)) == {
        "a": [{"x": 1}, {"y": "\u00e9"}, {"z": "\x00heliograph-json-0\x00"}], "b": "\x00"}
    assert encode_json({"plain": [1, "two"]}) == json.dumps({"plain": [1, "two"]},
                                                            separators=(",", ":"))
    with pytest.raises(TypeError):
        encode_json({"other": object()})
