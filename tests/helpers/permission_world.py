"""The world the permission tests act in: two pages (A and B), five actors with their API
tokens, and fixtures made on demand through the API as an administrator."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models import User
from models.enums import Role
from resolvers.account import hash_password, issue_token
from resolvers.auth import Actor
from resolvers.role import assign_role

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


@functools.cache
def password_hash() -> str:
    # argon2 is deliberately slow; the matrix makes many users, all with this one password.
    return hash_password("long enough pw")


async def fresh_user(w: World | None = None, email: str | None = None) -> User:
    return await User.create(email=email or f"{unique('u')}@example.com",
                             password_hash=password_hash())


async def make_world(client: httpx.AsyncClient, admin: User, admin_token: str) -> World:
    """Pages A and B; the page and event managers of page A; a member without roles."""
    tokens = {"anonymous": "", "admin": admin_token}
    users = {"admin": admin}
    for name in ACTORS[1:-1]:
        users[name] = await fresh_user(email=f"{name}@example.com")
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
