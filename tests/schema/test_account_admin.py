"""Administrators manage users and roles; members see their own roles and tokens."""

from __future__ import annotations

from typing import Any

from models import AuditEntry, RoleAssignment, User
from models.enums import Role
from resolvers.account import create_user, issue_token
from tests.schema.test_availability_api import logged_queries

USER = "... on Error { code message field }"


async def call(gql: Any, name: str, input_type: str, variables: dict[str, Any],
               select: str = "", token: str | None = None) -> dict[str, Any]:
    body = await gql(f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
                     f"{USER} {select} }} }}", {"input": variables}, token=token)
    return dict(body["data"][name])


async def test_admin_creates_a_user_who_sees_their_roles(gql: Any, admin: User) -> None:
    created = await call(gql, "createUser", "CreateUserInput", {
        "email": "Grace@Example.com", "password": "long enough pw", "name": "Grace"},
        "... on CreateUserPayload { user { id email name isAdmin isActive } }")
    user = created["user"]
    assert user["email"] == "grace@example.com" and user["isActive"] and not user["isAdmin"]
    page = (await gql('mutation { createPage(input: {slug: "a", name: "A"}) { '
                      '... on CreatePagePayload { page { id } } } }'))["data"]["createPage"]
    assigned = await call(gql, "assignRole", "AssignRoleInput", {
        "userId": user["id"], "role": "EVENT_MANAGEMENT", "pageId": page["page"]["id"]},
        "... on AssignRolePayload { assignment { id role allPages page { slug } } }")
    assert assigned["assignment"]["page"] == {"slug": "a"}
    everywhere = await call(gql, "assignRole", "AssignRoleInput", {
        "userId": user["id"], "role": "PAGE_MANAGEMENT"},
        "... on AssignRolePayload { assignment { allPages page { slug } } }")
    assert everywhere["assignment"] == {"allPages": True, "page": None}
    secret, _ = await issue_token(user=await User.get(id=user["id"]))
    viewer = (await gql("{ viewer { email isAdmin roles { role allPages } } }",
                        token=secret))["data"]["viewer"]
    assert sorted((r["role"], r["allPages"]) for r in viewer["roles"]) == [
        ("EVENT_MANAGEMENT", False), ("PAGE_MANAGEMENT", True)]
    revoked = await call(gql, "revokeRole", "RevokeRoleInput",
                         {"id": assigned["assignment"]["id"]},
                         "... on RevokeRolePayload { revokedRoleId }")
    assert revoked["revokedRoleId"] == assigned["assignment"]["id"]
    assert await RoleAssignment.all().count() == 1
    actions = [e.action for e in await AuditEntry.all().order_by("at")]
    assert {"user.create", "role.assign", "role.revoke"} <= set(actions)


async def test_duplicate_users_and_bad_input_are_refused(gql: Any, admin: User) -> None:
    dup = await call(gql, "createUser", "CreateUserInput",
                     {"email": "ADMIN@example.com", "password": "long enough pw"})
    assert (dup["code"], dup["field"]) == ("CONFLICT", "email")
    bad = await call(gql, "createUser", "CreateUserInput",
                     {"email": "not-an-address", "password": "long enough pw"})
    assert (bad["code"], bad["field"]) == ("INVALID", "email")
    missing = await call(gql, "assignRole", "AssignRoleInput",
                         {"userId": "nosuchuser", "role": "PAGE_MANAGEMENT"})
    assert (missing["code"], missing["field"]) == ("NOT_FOUND", "userId")
    assert await User.all().count() == 1


async def test_an_admin_cannot_lock_themselves_out(gql: Any, admin: User) -> None:
    demote = await call(gql, "updateUser", "UpdateUserInput", {"id": admin.id,
                                                               "isAdmin": False})
    assert (demote["code"], demote["field"]) == ("INVALID", "isAdmin")
    deactivate = await call(gql, "deactivateUser", "DeactivateUserInput", {"id": admin.id})
    assert (deactivate["code"], deactivate["field"]) == ("INVALID", "isActive")
    refreshed = await User.get(id=admin.id)
    assert refreshed.is_admin and refreshed.is_active


async def test_deactivation_revokes_tokens_and_reactivation_restores_sign_in(
        gql: Any, admin: User) -> None:
    user = await create_user(email="dee@example.com", password="long enough pw")
    secret, _ = await issue_token(user=user)
    await call(gql, "deactivateUser", "DeactivateUserInput", {"id": user.id})
    assert (await gql("{ viewer { email } }", token=secret))["data"]["viewer"] is None
    back = await call(gql, "reactivateUser", "ReactivateUserInput", {"id": user.id},
                      "... on ReactivateUserPayload { user { isActive } }")
    assert back["user"]["isActive"] is True
    # The revoked token stays revoked; a new one works.
    assert (await gql("{ viewer { email } }", token=secret))["data"]["viewer"] is None
    fresh, _ = await issue_token(user=await User.get(id=user.id))
    assert (await gql("{ viewer { email } }", token=fresh))["data"]["viewer"] == {
        "email": "dee@example.com"}


async def test_the_audit_log_filters_by_action_and_page(gql: Any, admin: User) -> None:
    for slug in ("a", "b"):
        await gql(f'mutation {{ createPage(input: {{slug: "{slug}", name: "{slug}"}}) '
                  '{ __typename } }')
    log = (await gql('{ auditLog(action: "page.create", first: 1) { action actorEmail '
                     'detail } }'))["data"]["auditLog"]
    assert log == [{"action": "page.create", "actorEmail": "admin@example.com",
                    "detail": {"slug": "b"}}]
    too_many = await gql("{ auditLog(first: 100000) { action } }", expect_errors=True)
    assert too_many["errors"][0]["extensions"] == {"code": "INVALID", "field": "first"}


async def test_listing_users_costs_the_same_queries_for_two_users_or_twelve(
        gql: Any, admin: User) -> None:
    async def add_users(first: int, count: int) -> None:
        for n in range(first, first + count):
            user = await User.create(email=f"u{n:02d}@example.com", password_hash="-")
            await RoleAssignment.create(user_id=user.id, role=Role.EVENT_MANAGEMENT)

    counts = []
    for first, count in ((0, 2), (2, 10)):
        await add_users(first, count)
        with logged_queries() as log:
            body = await gql("{ users { email roles { role allPages } } }")
        assert len(body["data"]["users"]) == first + count + 1  # and the administrator
        assert all(u["roles"] for u in body["data"]["users"] if u["email"] != admin.email)
        # Reads only: signing in may also stamp the token's last use, now and then.
        # The host → page map (web.domains, re-read once a second) is no resolver's.
        counts.append(sum(q.startswith("SELECT") and '"page_domain"' not in q
                          for q in log.statements))
    assert counts[0] == counts[1]
