"""The permission matrix: every mutation of the schema × anonymous, a member without roles, the
page manager of page A, the event manager of page A and an administrator, on page A and page B.

Each call is allowed (its payload) or refused with a typed UNAUTHENTICATED / FORBIDDEN member of
the result union, and a refusal writes nothing (row counts of every table and page sequences are
unchanged). A mutation the table does not cover, or without a `Guard`, fails a test: new
mutations must join the table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tortoise import Tortoise, connections

import schema as schema_module
from models import StatusPage, User
from schema.permissions import Guard
from tests.helpers.permission_table import POLICY_OF, TABLE, expected, forget_im_app
from tests.helpers.permission_world import ACTORS, PAGES, World, make_world


def mutation_fields() -> dict[str, Any]:
    built = schema_module.build_schema()
    definition = built.get_type_by_name("Mutation")
    return {built.config.name_converter.get_graphql_name(f): f
            for f in definition.fields}  # type: ignore[union-attr]


def input_type(name: str) -> str:
    graphql = schema_module.build_schema()._schema
    assert graphql.mutation_type is not None
    return str(graphql.mutation_type.fields[name].args["input"].type).rstrip("!")


async def snapshot() -> tuple[int, ...]:
    """Row counts of every table and the sum of page sequences, in one query."""
    tables = [m._meta.db_table for m in Tortoise.apps["heliograph"].values()]
    parts = [f'(SELECT COUNT(*) FROM "{t}")' for t in tables]
    parts.append(f'(SELECT COALESCE(SUM(sequence), 0) FROM "{StatusPage._meta.db_table}")')
    _, rows = await connections.get("default").execute_query("SELECT " + ", ".join(parts))
    return tuple(int(rows[0][i]) for i in range(len(parts)))


def test_every_mutation_has_a_guard() -> None:
    unguarded = [name for name, f in mutation_fields().items()
                 if not any(isinstance(e, Guard) for e in f.extensions)]
    assert unguarded == [], f"mutations without extensions=guard(Policy.…): {unguarded}"


def test_every_mutation_is_in_the_matrix() -> None:
    names = set(mutation_fields())
    assert sorted(names - set(TABLE)) == [], "add these mutations to TABLE"
    assert sorted(set(TABLE) - names) == [], "these mutations no longer exist"


def test_declared_guards_match_the_matrix() -> None:
    for name, f in mutation_fields().items():
        guards = [e for e in f.extensions if isinstance(e, Guard)]
        if name in TABLE and guards:
            assert guards[0].policy is POLICY_OF[TABLE[name].policy], name


@pytest.fixture(autouse=True)
def _no_im_app_left() -> Iterator[None]:
    yield
    forget_im_app()


@pytest.fixture
async def world(client: httpx.AsyncClient, admin: User, admin_token: str) -> World:
    return await make_world(client, admin, admin_token)


@pytest.mark.parametrize("name", sorted(TABLE))
async def test_matrix(world: World, name: str) -> None:
    if name not in mutation_fields():
        pytest.fail(f"{name} is in TABLE but not in the schema")
    case = TABLE[name]
    kind = input_type(name)
    outcomes: dict[tuple[str, str], str] = {}
    for page in PAGES:
        # Refusals first (they must leave everything as it was), then the allowed actors.
        order = sorted(ACTORS, key=lambda a: expected(case.policy, a, page) is None)
        for actor in order:
            variables = await case.build(world, page, actor)
            before = await snapshot()
            result = await world.call(actor, name, kind, variables)
            code = expected(case.policy, actor, page)
            outcomes[(actor, page)] = result["__typename"]
            if code is None:
                assert result["__typename"].endswith("Payload"), (actor, page, result)
                continue
            typename = {"UNAUTHENTICATED": "UnauthenticatedError",
                        "FORBIDDEN": "ForbiddenError"}[code]
            assert (result["__typename"], result["code"]) == (typename, code), (
                actor, page, result)
            assert result["message"]
            assert await snapshot() == before, f"{name} by {actor} on {page} wrote something"
    assert any(t.endswith("Payload") for t in outcomes.values())

