"""Roles beyond the mutation matrix: a revoked role's token loses the right, assignments are
unique, and management queries refuse callers without rights with a coded error."""

from __future__ import annotations

import httpx
import pytest

import schema as schema_module
from models import ApiToken, Component, User
from tests.helpers.permission_world import World, make_world


@pytest.fixture
async def world(client: httpx.AsyncClient, admin: User, admin_token: str) -> World:
    return await make_world(client, admin, admin_token)


async def test_token_of_a_revoked_role_loses_the_right(world: World) -> None:
    from models import RoleAssignment

    row = await RoleAssignment.get(user_id=world.users["page_manager_a"].id)
    revoked = await world.call("admin", "revokeRole", "RevokeRoleInput", {"id": row.id})
    assert revoked["__typename"] == "RevokeRolePayload"
    refused = await world.call("page_manager_a", "createComponent", "CreateComponentInput",
                               {"pageId": world.pages["A"], "name": "x"})
    assert refused["code"] == "FORBIDDEN"
    assert await Component.all().count() == 0


async def test_role_assignments_are_unique(world: World) -> None:
    again = await world.call("admin", "assignRole", "AssignRoleInput", {
        "userId": world.users["page_manager_a"].id, "role": "PAGE_MANAGEMENT",
        "pageId": world.pages["A"]})
    assert (again["__typename"], again["field"]) == ("ConflictError", "role")
    everywhere = await world.call("admin", "assignRole", "AssignRoleInput", {
        "userId": world.users["page_manager_a"].id, "role": "PAGE_MANAGEMENT"})
    assert everywhere["__typename"] == "AssignRolePayload"
    now_allowed = await world.call("page_manager_a", "createPage", "CreatePageInput",
                                   {"slug": "by-manager", "name": "By manager"})
    assert now_allowed["__typename"] == "CreatePagePayload"
    assert await ApiToken.filter(revoked_at=None).count() == 4


async def test_management_queries_are_refused_with_codes(world: World) -> None:
    for actor, code in (("anonymous", "UNAUTHENTICATED"), ("page_manager_a", "FORBIDDEN")):
        headers = {"authorization": f"Bearer {world.tokens[actor]}"} if actor != "anonymous" \
            else {}
        body = (await world.http.post("/graphql", json={
            "query": "{ users { email } auditLog { action } }"}, headers=headers)).json()
        assert body["data"] is None
        assert {e["extensions"]["code"] for e in body["errors"]} == {code}
    body = (await world.http.post("/graphql", json={
        "query": "{ users { email roles { role allPages page { slug } } } "
                 "auditLog(first: 5) { action actorEmail } }"},
        headers={"authorization": f"Bearer {world.tokens['admin']}"})).json()
    emails = {u["email"] for u in body["data"]["users"]}
    assert {"admin@example.com", "page_manager_a@example.com"} <= emails
    manager = next(u for u in body["data"]["users"] if u["email"].startswith("page_manager"))
    assert manager["roles"] == [{"role": "PAGE_MANAGEMENT", "allPages": False,
                                 "page": {"slug": "page-a"}}]
    assert body["data"]["auditLog"][0]["action"] == "role.assign"


PUBLIC_QUERIES = {"page", "pages", "event", "viewer"}


async def test_every_management_query_refuses_callers_without_rights(world: World) -> None:
    """Root query fields other than the public reads answer anonymous callers
    UNAUTHENTICATED and members without a role FORBIDDEN (null data, a coded error)."""
    from graphql import GraphQLNonNull, Undefined, get_named_type, is_leaf_type

    fields = schema_module.build_schema()._schema.query_type.fields  # type: ignore[union-attr]
    for name, f in fields.items():
        if name in PUBLIC_QUERIES:
            continue
        args = [f'{a}: "{world.pages["A"]}"' for a, arg in f.args.items()
                if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined]
        call = f"{name}({', '.join(args)})" if args else name
        selection = "" if is_leaf_type(get_named_type(f.type)) else " { __typename }"
        for actor, code in (("anonymous", "UNAUTHENTICATED"), ("member", "FORBIDDEN")):
            if actor == "member" and name in ("imDestinations", "directMessageProviders"):
                continue  # a member's own IM bindings, and the apps they may bind
            headers = ({"authorization": f"Bearer {world.tokens[actor]}"}
                       if world.tokens[actor] else {})
            body = (await world.http.post("/graphql", json={"query": f"{{ {call}{selection} }}"},
                                          headers=headers)).json()
            codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
            assert body.get("data") is None and codes == {code}, (name, actor, body)
