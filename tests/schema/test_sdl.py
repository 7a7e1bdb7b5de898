"""The committed SDL is the API's reference: it must match the code."""

from __future__ import annotations

import pytest

import schema

pytestmark = pytest.mark.onepass


def test_committed_schema_graphql_matches_the_code() -> None:
    committed = schema.SDL_PATH.read_text()
    assert committed == schema.export_sdl(), (
        "schema/schema.graphql is stale: run `make schema` and commit it"
    )


def test_stable_root_fields_exist() -> None:
    sdl = schema.export_sdl()
    for name in ("page(slug: String!)", "pages:", "viewer:", "createPage(", "createComponent(",
                 "createComponentGroup(", "createApiToken("):
        assert name in sdl, name
