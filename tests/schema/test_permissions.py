"""The permission matrix: every mutation of the schema × anonymous, a member without roles, the
page manager of page A, the event manager of page A and an administrator, on page A and page B.

Each call is allowed (its payload) or refused with a typed UNAUTHENTICATED / FORBIDDEN member of
the result union, and a refusal writes nothing (row counts of every table and page sequences are
unchanged). A mutation the table does not cover, or without a `Guard`, fails a test: new
mutations must join the table."""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tortoise import Tortoise, connections

import schema as schema_module
from models import ApiToken, Component, ComponentGroup, StatusPage, User
from models.enums import Role
from resolvers.account import hash_password, issue_token
from resolvers.auth import Actor
from resolvers.role import assign_role
from schema.permissions import Guard, Policy
from settings import reset_settings

ACTORS = ("anonymous", "member", "page_manager_a", "event_manager_a", "admin")
PAGES = ("A", "B")
_unique = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_unique)}"


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


@dataclass
class World:
    http: httpx.AsyncClient
    tokens: dict[str, str]
    users: dict[str, User]
    pages: dict[str, str] = field(default_factory=dict)  # "A"/"B" -> page id

    async def call(self, actor: str, name: str, input_type: str,
                   variables: dict[str, Any], select: str = "") -> dict[str, Any]:
        document = (f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
                    f"... on Error {{ code message field }} {select} }} }}")
        headers = {"origin": "http://testserver"}
        if self.tokens.get(actor):
            headers["authorization"] = f"Bearer {self.tokens[actor]}"
        response = await self.http.post("/graphql", json={"query": document,
                                                          "variables": {"input": variables}},
                                        headers=headers)
        self.http.cookies.clear()  # signIn sets a cookie; every call stands alone
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return dict(body["data"][name])

    async def admin(self, name: str, input_type: str, variables: dict[str, Any],
                    select: str) -> dict[str, Any]:
        """Set-up through the API as an administrator; fails loudly if refused."""
        result = await self.call("admin", name, input_type, variables, select)
        assert result["__typename"].endswith("Payload"), result
        return result

    # ---- fixtures made on demand, fresh for each call ----
    async def component(self, page: str, **extra: Any) -> str:
        result = await self.admin("createComponent", "CreateComponentInput", {
            "pageId": self.pages[page], "name": unique("c"), **extra},
            "... on CreateComponentPayload { component { id } }")
        return str(result["component"]["id"])

    async def group(self, page: str) -> str:
        result = await self.admin("createComponentGroup", "CreateComponentGroupInput", {
            "pageId": self.pages[page], "name": unique("g")},
            "... on CreateComponentGroupPayload { group { id } }")
        return str(result["group"]["id"])

    async def incident(self, page: str) -> dict[str, Any]:
        result = await self.admin("createIncident", "CreateIncidentInput", {
            "pageId": self.pages[page], "title": unique("i"), "message": "Looking",
            "notify": False},
            "... on CreateIncidentPayload { event { id updates { id } } }")
        return dict(result["event"])

    async def maintenance(self, page: str) -> str:
        result = await self.admin("scheduleMaintenance", "ScheduleMaintenanceInput", {
            "pageId": self.pages[page], "title": unique("m"), "message": "Planned",
            "scheduledStart": iso(timedelta(days=1)),
            "scheduledEnd": iso(timedelta(days=1, hours=1)), "notify": False},
            "... on ScheduleMaintenancePayload { event { id } }")
        return str(result["event"]["id"])

    async def template(self, page: str) -> str:
        result = await self.admin("createTemplate", "CreateTemplateInput", {
            "pageId": self.pages[page], "kind": "INCIDENT", "name": unique("t")},
            "... on CreateTemplatePayload { template { id } }")
        return str(result["template"]["id"])


Builder = Callable[[World, str, str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    # anyone | signed_in | page | page_all | event | admin
    policy: str
    build: Builder


async def _update_to_delete(w: World, page: str, actor: str) -> dict[str, Any]:
    event = await w.incident(page)
    result = await w.admin("postEventUpdate", "PostEventUpdateInput", {
        "eventId": event["id"], "status": "IDENTIFIED", "message": "Found it", "notify": False},
        "... on PostEventUpdatePayload { event { updates { id } } }")
    newest = [u["id"] for u in result["event"]["updates"]
              if u["id"] not in {x["id"] for x in event["updates"]}]
    return {"updateId": newest[0]}


async def _retrospective(w: World, page: str, actor: str) -> dict[str, Any]:
    component = await w.component(page, since=iso(-timedelta(days=10)))
    return {"pageId": w.pages[page], "kind": "INCIDENT", "title": unique("r"),
            "startedAt": iso(-timedelta(hours=3)), "endedAt": iso(-timedelta(hours=1)),
            "components": [{"componentId": component, "impact": "PARTIAL_OUTAGE"}],
            "updates": [{"at": iso(-timedelta(hours=2)), "status": "INVESTIGATING",
                         "message": "It broke"}]}


async def _reorder_groups(w: World, page: str, actor: str) -> dict[str, Any]:
    await w.group(page)
    ids = await ComponentGroup.filter(page_id=w.pages[page]).values_list("id", flat=True)
    return {"pageId": w.pages[page], "groupIds": list(reversed(ids))}


async def _reorder_components(w: World, page: str, actor: str) -> dict[str, Any]:
    await w.component(page)
    ids = await Component.filter(page_id=w.pages[page], group_id=None).values_list(
        "id", flat=True)
    return {"pageId": w.pages[page], "componentIds": list(reversed(ids))}


async def _reorder_pages(w: World, page: str, actor: str) -> dict[str, Any]:
    ids = await StatusPage.all().order_by("position").values_list("id", flat=True)
    return {"pageIds": list(reversed(ids))}


@functools.cache
def _password_hash() -> str:
    # argon2 is deliberately slow; the matrix makes many users, all with this one password.
    return hash_password("long enough pw")


async def _fresh_user(w: World | None = None, email: str | None = None) -> User:
    return await User.create(email=email or f"{unique('u')}@example.com",
                             password_hash=_password_hash())


async def _sign_in(w: World, page: str, actor: str) -> dict[str, Any]:
    user = await _fresh_user(w)
    return {"email": user.email, "password": "long enough pw"}


async def _revoke_token(w: World, page: str, actor: str) -> dict[str, Any]:
    owner = w.users.get(actor) or w.users["admin"]
    _, token = await issue_token(user=owner, name="to revoke")
    return {"id": token.id}


async def _revoke_role(w: World, page: str, actor: str) -> dict[str, Any]:
    user = await _fresh_user(w)
    row = await assign_role(actor=Actor(user=w.users["admin"]), user_id=user.id,
                            role=Role.EVENT_MANAGEMENT, page_id=w.pages[page])
    return {"id": row.id}


async def _user_id(w: World) -> str:
    return (await _fresh_user(w)).id


async def _deactivated_user(w: World) -> str:
    user = await _fresh_user(w)
    await User.filter(id=user.id).update(is_active=False)
    return user.id


async def _integration(w: World, page: str, actor: str) -> dict[str, Any]:
    result = await w.admin("createIntegration", "CreateIntegrationInput", {
        "pageId": w.pages[page], "name": unique("i"), "kind": "ALERTMANAGER"},
        "... on CreateIntegrationPayload { integration { id } }")
    return {"id": result["integration"]["id"]}


async def _rule(w: World, page: str) -> str:
    result = await w.admin("createAutomationRule", "CreateAutomationRuleInput", {
        "pageId": w.pages[page], "name": unique("r"), "impact": "DEGRADED",
        "componentIds": [await w.component(page)]},
        "... on CreateAutomationRulePayload { rule { id } }")
    return str(result["rule"]["id"])


async def _subscribe(w: World, page: str, actor: str) -> dict[str, Any]:
    from models import RateCounter

    # Many subscriptions from one test client in a row are intended here.
    await RateCounter.all().delete()
    return {"pageSlug": f"page-{page.lower()}", "email": f"{unique('s')}@example.com"}


async def _subscriber(w: World, page: str) -> str:
    from models import Subscriber

    made = await _subscribe(w, page, "admin")
    await w.admin("subscribe", "SubscribeInput", made, "")
    return str((await Subscriber.get(email=made["email"])).id)


async def _im_destination(w: World, page: str, actor: str) -> dict[str, Any]:
    from models.enums import ImProvider
    from resolvers.im import bind_destination

    owner = w.users.get(actor) or w.users["admin"]
    made = await bind_destination(actor=Actor(user=owner), provider=ImProvider.SLACK,
                                  webhook_url="https://hooks.slack.com/services/T/B/x")
    return {"id": made.id}


_slack_api: list[str] = []  # a local stand-in for Slack's Web API, started once


async def _slack_lookup_answer(reader: asyncio.StreamReader,
                               writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    body = b'{"ok": true, "user": {"id": "U0MEMBER"}}'
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
                 b"content-length: %d\r\n\r\n%s" % (len(body), body))
    await writer.drain()
    writer.close()


async def _direct(w: World, page: str, actor: str) -> dict[str, Any]:
    """A Slack app set up for direct messages, and no direct binding yet (one per member)."""
    from models import ImDestination

    if not _slack_api:
        server = await asyncio.start_server(_slack_lookup_answer, "127.0.0.1", 0)
        _slack_api.append(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
    os.environ.update({"SLACK_BOT_TOKEN": "xoxb-matrix", "SLACK_API_URL": _slack_api[0]})
    reset_settings()
    await ImDestination.filter(recipient__not_isnull=True).delete()
    return {"provider": "SLACK"}


@pytest.fixture(autouse=True)
def _no_im_app_left() -> Iterator[None]:
    yield
    if os.environ.pop("SLACK_BOT_TOKEN", None) is not None:
        os.environ.pop("SLACK_API_URL", None)
        reset_settings()


async def _webhook(w: World, page: str, disabled: bool = False) -> dict[str, Any]:
    from models import Subscriber
    from models.enums import SubscriberState
    from resolvers.webhook import subscribe_webhook

    made, _ = await subscribe_webhook(actor=Actor(user=w.users["admin"]),
                                      page_slug=f"page-{page.lower()}",
                                      url="http://127.0.0.1:9/hook")
    if disabled:
        await Subscriber.filter(id=made.id).update(state=SubscriberState.DISABLED)
    return {"subscriberId": made.id}


TABLE: dict[str, Case] = {
    # pages (the role for all pages) and their contents (the role for the page)
    "createPage": Case("page_all", lambda w, p, a: _const(
        {"slug": unique("new-"), "name": "New", "visibility": "INTERNAL"})),
    "updatePage": Case("page", lambda w, p, a: _const({"id": w.pages[p], "name": unique("n")})),
    "deletePage": Case("page_all", lambda w, p, a: _const({"id": w.pages[p]})),
    "reorderPages": Case("page_all", _reorder_pages),
    "createComponentGroup": Case("page", lambda w, p, a: _const(
        {"pageId": w.pages[p], "name": unique("g")})),
    "updateComponentGroup": Case("page", lambda w, p, a: _with(w.group(p), lambda g: {
        "id": g, "name": unique("g")})),
    "deleteComponentGroup": Case("page", lambda w, p, a: _with(w.group(p), lambda g: {
        "id": g})),
    "reorderComponentGroups": Case("page", _reorder_groups),
    "createComponent": Case("page", lambda w, p, a: _const(
        {"pageId": w.pages[p], "name": unique("c")})),
    "updateComponent": Case("page", lambda w, p, a: _with(w.component(p), lambda c: {
        "id": c, "name": unique("c")})),
    "deleteComponent": Case("page", lambda w, p, a: _with(w.component(p), lambda c: {
        "id": c})),
    "reorderComponents": Case("page", _reorder_components),
    # automation: integrations and rules are part of setting a page up
    "createIntegration": Case("page", lambda w, p, a: _const(
        {"pageId": w.pages[p], "name": unique("i"), "kind": "GRAFANA"})),
    "revokeIntegration": Case("page", _integration),
    "createAutomationRule": Case("page", lambda w, p, a: _with(w.component(p), lambda c: {
        "pageId": w.pages[p], "name": unique("r"), "impact": "FULL_OUTAGE",
        "componentIds": [c]})),
    "updateAutomationRule": Case("page", lambda w, p, a: _with(_rule(w, p), lambda r: {
        "id": r, "openAfterSeconds": 60})),
    "deleteAutomationRule": Case("page", lambda w, p, a: _with(_rule(w, p), lambda r: {
        "id": r})),
    # events, updates, templates
    "createIncident": Case("event", lambda w, p, a: _const(
        {"pageId": w.pages[p], "title": "Down", "message": "Looking", "notify": False})),
    "scheduleMaintenance": Case("event", lambda w, p, a: _const(
        {"pageId": w.pages[p], "title": "Upgrade", "message": "Planned", "notify": False,
         "scheduledStart": iso(timedelta(days=2)),
         "scheduledEnd": iso(timedelta(days=2, hours=1))})),
    "postEventUpdate": Case("event", lambda w, p, a: _with(w.incident(p), lambda e: {
        "eventId": e["id"], "status": "IDENTIFIED", "message": "Found", "notify": False})),
    "createRetrospectiveEvent": Case("event", _retrospective),
    "deleteEvent": Case("event", lambda w, p, a: _with(w.incident(p), lambda e: {
        "eventId": e["id"]})),
    "updateEvent": Case("event", lambda w, p, a: _with(w.incident(p), lambda e: {
        "eventId": e["id"], "title": "Renamed"})),
    "editEventUpdate": Case("event", lambda w, p, a: _with(w.incident(p), lambda e: {
        "updateId": e["updates"][0]["id"], "message": "Edited"})),
    "deleteEventUpdate": Case("event", _update_to_delete),
    "updateMaintenance": Case("event", lambda w, p, a: _with(w.maintenance(p), lambda m: {
        "eventId": m, "scheduledEnd": iso(timedelta(days=1, hours=2))})),
    "cancelMaintenance": Case("event", lambda w, p, a: _with(w.maintenance(p), lambda m: {
        "eventId": m, "notify": False})),
    "createTemplate": Case("event", lambda w, p, a: _const(
        {"pageId": w.pages[p], "kind": "INCIDENT", "name": unique("t")})),
    "updateTemplate": Case("event", lambda w, p, a: _with(w.template(p), lambda t: {
        "id": t, "name": unique("t")})),
    "deleteTemplate": Case("event", lambda w, p, a: _with(w.template(p), lambda t: {
        "id": t})),
    # subscribers: anyone subscribes; managing a subscriber by id is page management
    # (the guard is ANYONE because a subscriber's own signed link also works, in the resolver)
    "subscribe": Case("anyone", _subscribe),
    "updateSubscription": Case("page_by_id", lambda w, p, a: _with(_subscriber(w, p), lambda s: {
        "subscriberId": s})),
    "unsubscribe": Case("page_by_id", lambda w, p, a: _with(_subscriber(w, p), lambda s: {
        "subscriberId": s})),
    "bindImDestination": Case("signed_in", lambda w, p, a: _const(
        {"provider": "SLACK", "webhookUrl": "https://hooks.slack.com/services/T/B/y"})),
    "deleteImDestination": Case("signed_in", _im_destination),
    "bindDirectMessages": Case("signed_in", _direct),
    # webhooks: page management only (never anonymous, also on public pages)
    "subscribeWebhook": Case("page", lambda w, p, a: _const(
        {"pageSlug": f"page-{p.lower()}", "url": "http://127.0.0.1:9/hook"})),
    "enableWebhook": Case("page", lambda w, p, a: _webhook(w, p, disabled=True)),
    "deleteWebhook": Case("page", lambda w, p, a: _webhook(w, p)),
    # accounts
    "signIn": Case("anyone", _sign_in),
    "signOut": Case("signed_in", lambda w, p, a: _const({"everywhere": True})),
    "createApiToken": Case("signed_in", lambda w, p, a: _const({"name": "matrix"})),
    "revokeApiToken": Case("signed_in", _revoke_token),
    # administration
    "createUser": Case("admin", lambda w, p, a: _const(
        {"email": f"{unique('n')}@example.com", "password": "long enough pw"})),
    "updateUser": Case("admin", lambda w, p, a: _with(_user_id(w), lambda u: {
        "id": u, "name": "Renamed"})),
    "deactivateUser": Case("admin", lambda w, p, a: _with(_user_id(w), lambda u: {"id": u})),
    "reactivateUser": Case("admin", lambda w, p, a: _with(_deactivated_user(w), lambda u: {
        "id": u})),
    "assignRole": Case("admin", lambda w, p, a: _with(_user_id(w), lambda u: {
        "userId": u, "role": "PAGE_MANAGEMENT", "pageId": w.pages[p]})),
    "revokeRole": Case("admin", _revoke_role),
}

POLICY_OF = {"anyone": Policy.ANYONE, "signed_in": Policy.SIGNED_IN,
             "page": Policy.PAGE_MANAGEMENT, "page_by_id": Policy.ANYONE,
             "page_all": Policy.PAGE_MANAGEMENT,
             "event": Policy.EVENT_MANAGEMENT, "admin": Policy.ADMIN}


async def _const(value: dict[str, Any]) -> dict[str, Any]:
    return value


async def _with(made: Awaitable[Any], shape: Callable[[Any], dict[str, Any]]
                ) -> dict[str, Any]:
    return shape(await made)


def expected(policy: str, actor: str, page: str) -> str | None:
    """None when the actor may do it, else the refusal code."""
    if policy == "anyone":
        return None
    if actor == "anonymous":
        return "UNAUTHENTICATED"
    if policy == "signed_in" or actor == "admin":
        return None
    if policy in ("page", "page_by_id") and actor == "page_manager_a" and page == "A":
        return None
    if policy == "event" and actor == "event_manager_a" and page == "A":
        return None
    return "FORBIDDEN"


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


@pytest.fixture
async def world(client: httpx.AsyncClient, admin: User, admin_token: str) -> World:
    tokens = {"anonymous": "", "admin": admin_token}
    users = {"admin": admin}
    for name in ACTORS[1:-1]:
        users[name] = await _fresh_user(email=f"{name}@example.com")
        tokens[name], _ = await issue_token(user=users[name])
    w = World(http=client, tokens=tokens, users=users)
    for key in PAGES:
        result = await w.admin("createPage", "CreatePageInput",
                               {"slug": f"page-{key.lower()}", "name": f"Page {key}"},
                               "... on CreatePagePayload { page { id } }")
        w.pages[key] = result["page"]["id"]
    by_admin = Actor(user=admin)
    await assign_role(actor=by_admin, user_id=users["page_manager_a"].id,
                      role=Role.PAGE_MANAGEMENT, page_id=w.pages["A"])
    await assign_role(actor=by_admin, user_id=users["event_manager_a"].id,
                      role=Role.EVENT_MANAGEMENT, page_id=w.pages["A"])
    return w


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
