"""The permission matrix's table: for every mutation, who may call it (its policy) and how to
build its input for a page and an actor; `expected` says what each actor gets."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from models import Component, ComponentGroup, StatusPage, User
from models.enums import Role
from resolvers.account import issue_token
from resolvers.auth import Actor
from resolvers.role import assign_role
from schema.permissions import Policy
from settings import reset_settings
from tests.helpers.permission_world import World, fresh_user, iso, unique

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



async def _sign_in(w: World, page: str, actor: str) -> dict[str, Any]:
    user = await fresh_user(w)
    return {"email": user.email, "password": "long enough pw"}


async def _revoke_token(w: World, page: str, actor: str) -> dict[str, Any]:
    owner = w.users.get(actor) or w.users["admin"]
    _, token = await issue_token(user=owner, name="to revoke")
    return {"id": token.id}


async def _revoke_role(w: World, page: str, actor: str) -> dict[str, Any]:
    user = await fresh_user(w)
    row = await assign_role(actor=Actor(user=w.users["admin"]), user_id=user.id,
                            role=Role.EVENT_MANAGEMENT, page_id=w.pages[page])
    return {"id": row.id}


async def _user_id(w: World) -> str:
    return (await fresh_user(w)).id


async def _deactivated_user(w: World) -> str:
    user = await fresh_user(w)
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


def forget_im_app() -> None:
    """Undo `_direct`'s Slack app (the matrix's autouse fixture calls it after each case)."""
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
