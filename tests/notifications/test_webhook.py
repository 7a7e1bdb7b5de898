"""Webhook subscribers against real HTTP receivers on 127.0.0.1 that answer the challenge and
verify every message with the `standardwebhooks` library, as a receiver would."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from standardwebhooks import Webhook

from models import Delivery
from models.base import utcnow
from models.enums import DeliveryKind, DeliveryStatus, Role
from notifications import deliver, outgoing
from resolvers import webhook as webhook_resolvers
from settings import get_settings
from tests.notifications.support import (
    Received,
    Receiver,
    drain,
    make_page,
    open_incident,
    post_update,
    receiver,
)
from tests.resolvers.test_subscriber_manager import token_for

__all__ = ["receiver"]

SUBSCRIBE = """
mutation($input: SubscribeWebhookInput!) { subscribeWebhook(input: $input) {
  __typename ... on SubscribeWebhookPayload { secret webhook { id state url } }
  ... on Error { code message field } } }"""
WEBHOOKS = """query($p: ID!) { webhooks(pageId: $p) {
  id url state failureCount disabledReason lastFailure componentIds } }"""
ENABLE = """mutation($id: ID!) { enableWebhook(input: {subscriberId: $id}) {
  __typename ... on EnableWebhookPayload { webhook { state failureCount disabledReason } }
  ... on Error { code message } } }"""


@pytest.fixture(autouse=True)
def shapes() -> None:
    webhook_resolvers.install()  # what `heliograph worker` does at start


class Endpoint:
    """A receiver's behaviour: echo challenges, verify every message with the library."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.secret = ""
        self.verified: list[dict[str, Any]] = []
        self.answer: tuple[int, dict[str, str], str] = (204, {}, "")
        receiver.reply = self.reply

    def reply(self, r: Received) -> tuple[int, dict[str, str], str]:
        body = Webhook(self.secret).verify(r.raw, r.headers)  # raises on a bad signature
        self.verified.append(body)
        if body.get("type") == "webhook.verification":
            return 200, {"content-type": "application/json"}, json.dumps(
                {"challenge": body["challenge"]})
        return self.answer

    def messages(self) -> list[dict[str, Any]]:
        return [b for b in self.verified if b.get("type") != "webhook.verification"]


async def add_webhook(gql: Any, endpoint: Endpoint, path: str = "/hook",
                      **scope: Any) -> str:
    answer = (await gql(SUBSCRIBE, {"input": {"pageSlug": "acme",
                                              "url": endpoint.receiver.url + path,
                                              **scope}}))["data"]["subscribeWebhook"]
    assert answer["__typename"] == "SubscribeWebhookPayload", answer
    assert answer["secret"].startswith("whsec_") and answer["webhook"]["state"] == "PENDING"
    endpoint.secret = answer["secret"]
    return str(answer["webhook"]["id"])


async def hooks(gql: Any, page_id: str, token: str | None = None) -> list[dict[str, Any]]:
    body = await gql(WEBHOOKS, {"p": page_id}, token=token)
    return body["data"]["webhooks"]  # type: ignore[no-any-return]


async def test_a_verified_webhook_gets_signed_statuspage_messages(
        gql: Any, client: Any, receiver: Receiver) -> None:
    endpoint = Endpoint(receiver)
    page_id, comps = await make_page(gql)
    await add_webhook(gql, endpoint)
    assert receiver.requests == []  # the challenge goes out through the worker
    await drain()
    assert [h["state"] for h in await hooks(gql, page_id)] == ["CONFIRMED"]
    assert len(endpoint.verified) == 1

    # The page gets its own domain: the messages' links name it.
    moved = await gql("""mutation($input: UpdatePageInput!) { updatePage(input: $input) {
        __typename } }""", {"input": {"id": page_id, "domains": ["status.acme.test"]}})
    assert moved["data"]["updatePage"]["__typename"] == "UpdatePagePayload", moved
    event = await open_incident(gql, page_id, "API errors", {comps["API"]: "FULL_OUTAGE"})
    await drain()
    await post_update(gql, event["id"], "RESOLVED", "Fixed")
    await drain()
    messages = endpoint.messages()  # every one verified by standardwebhooks
    assert [sorted(m) for m in messages] == [
        ["incident", "meta", "page"], ["component", "component_update", "meta", "page"],
        ["incident", "meta", "page"], ["component", "component_update", "meta", "page"]]
    first, outage, resolved, back = messages
    assert first["incident"]["id"] == event["id"] and first["incident"]["status"] == "investigating"
    assert first["page"] == {"id": page_id, "status_indicator": "critical",
                             "status_description": "Major System Outage"}
    assert first["meta"]["unsubscribe"].startswith(
        "http://status.acme.test/subscriptions/unsubscribe/")
    assert outage["component_update"]["component_id"] == comps["API"]
    assert (outage["component_update"]["old_status"],
            outage["component_update"]["new_status"]) == ("operational", "major_outage")
    assert resolved["incident"]["status"] == "resolved"
    assert resolved["page"]["status_indicator"] == "none"
    assert [u["body"] for u in resolved["incident"]["incident_updates"]] == [
        "Fixed", "We are **looking** into it."]
    assert (back["component_update"]["old_status"],
            back["component_update"]["new_status"]) == ("major_outage", "operational")
    assert back["component"]["id"] == comps["API"]
    # The same objects as the Statuspage-compatible API.
    api = (await client.get("/p/acme/api/v2/incidents.json")).json()["incidents"][0]
    assert sorted(resolved["incident"]) == sorted(api)
    api_components = (await client.get("/p/acme/api/v2/components.json")).json()["components"]
    assert sorted(back["component"]) == sorted(api_components[0])
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(set(ids)) == len(ids) == 5


async def test_scope_limits_what_a_webhook_receives(gql: Any, receiver: Receiver) -> None:
    endpoint = Endpoint(receiver)
    page_id, comps = await make_page(gql)
    await add_webhook(gql, endpoint, componentIds=[comps["Web"]])
    await drain()
    await open_incident(gql, page_id, "API errors", {comps["API"]: "DEGRADED"})
    await drain()
    assert endpoint.messages() == []
    await open_incident(gql, page_id, "Web errors", {comps["Web"]: "DEGRADED"})
    await drain()
    assert [m.get("incident", {}).get("name") for m in endpoint.messages()] == [
        "Web errors", None]


async def test_an_endpoint_that_does_not_echo_the_challenge_gets_nothing(
        gql: Any, receiver: Receiver) -> None:
    endpoint = Endpoint(receiver)
    receiver.reply = lambda r: (200, {}, "ok")
    page_id, _ = await make_page(gql)
    await add_webhook(gql, endpoint)
    await drain()
    (hook,) = await hooks(gql, page_id)
    assert hook["state"] == "DISABLED"
    assert hook["disabledReason"] == ("Verification failed: HTTP 200 without the challenge "
                                      "in the answer")
    await open_incident(gql, page_id)
    await drain()
    assert len(receiver.requests) == 1


async def test_a_failing_endpoint_is_retried_then_disabled_with_its_reason(
        gql: Any, receiver: Receiver) -> None:
    endpoint = Endpoint(receiver)
    page_id, _ = await make_page(gql)
    hook_id = await add_webhook(gql, endpoint)
    await drain()
    endpoint.answer = (500, {}, "database on fire")
    await open_incident(gql, page_id)
    for _ in range(deliver.MAX_ATTEMPTS):
        await Delivery.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=utcnow())
        await drain()
    attempts = receiver.requests[1:]
    assert len(attempts) == deliver.MAX_ATTEMPTS
    assert len({r.headers["webhook-id"] for r in attempts}) == 1  # a retry is the same message
    (hook,) = await hooks(gql, page_id)
    assert hook["state"] == "DISABLED" and hook["failureCount"] == 1
    assert "HTTP 500: database on fire" in hook["disabledReason"]
    assert hook["lastFailure"].startswith(f"gave up after {deliver.MAX_ATTEMPTS} attempts")
    event = await open_incident(gql, page_id, "Later")
    await drain()
    assert len(receiver.requests) == 1 + deliver.MAX_ATTEMPTS  # nothing to a disabled one
    assert not await Delivery.filter(update_id=event["updates"][0]["id"]).exists()

    endpoint.answer = (204, {}, "")
    enabled = (await gql(ENABLE, {"id": hook_id}))["data"]["enableWebhook"]
    assert enabled["webhook"] == {"state": "PENDING", "failureCount": 0,
                                  "disabledReason": None}
    await drain()
    assert [h["state"] for h in await hooks(gql, page_id)] == ["CONFIRMED"]


async def test_client_errors_in_a_row_disable_and_redirects_are_not_followed(
        gql: Any, receiver: Receiver) -> None:
    endpoint = Endpoint(receiver)
    page_id, _ = await make_page(gql)
    await add_webhook(gql, endpoint)
    await drain()
    endpoint.answer = (301, {"location": receiver.url + "/elsewhere"}, "")
    event = await open_incident(gql, page_id)
    await drain()
    delivery = await Delivery.get(kind=DeliveryKind.NOTIFICATION)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error is not None and "redirects are not followed" in delivery.last_error
    endpoint.answer = (410, {}, "gone")
    for n in range(4):
        await post_update(gql, event["id"], "IDENTIFIED", f"Step {n}")
        await drain()
    assert {r.path for r in receiver.requests} == {"/hook"}
    (hook,) = await hooks(gql, page_id)
    assert hook["state"] == "DISABLED"
    assert hook["disabledReason"] == "5 deliveries in a row failed; last: HTTP 410: gone"


@pytest.mark.parametrize("url, reason", [
    ("https://127.0.0.1/hook", "127.0.0.1 is not a public address"),
    ("https://10.0.0.1/hook", "10.0.0.1 is not a public address"),
    ("https://[::ffff:192.168.1.1]/hook", "192.168.1.1 is not a public address"),
    ("http://example.com/hook", "The address must use https://"),
    ("https://localhost/hook", "localhost resolves to 127.0.0.1, which is not a public address"),
])
async def test_production_refuses_private_addresses_and_plain_http(
        gql: Any, monkeypatch: pytest.MonkeyPatch, url: str, reason: str) -> None:
    page_id, _ = await make_page(gql)
    production = dataclasses.replace(get_settings(), env="production")
    monkeypatch.setattr(outgoing, "get_settings", lambda: production)
    answer = (await gql(SUBSCRIBE, {"input": {"pageSlug": "acme", "url": url}})
              )["data"]["subscribeWebhook"]
    assert answer == {"__typename": "InvalidInputError", "code": "INVALID",
                      "message": reason, "field": "url"}
    assert await hooks(gql, page_id) == []
    with pytest.raises(outgoing.Refused, match=re.escape(reason)):
        await outgoing.post(None, url, b"{}", {})  # type: ignore[arg-type]


async def test_only_the_pages_managers_add_or_see_webhooks(gql: Any,
                                                          receiver: Receiver) -> None:
    page_id, _ = await make_page(gql, visibility="INTERNAL")
    other_id, _ = (await make_page(gql, slug="other"))
    variables = {"input": {"pageSlug": "acme", "url": receiver.url + "/hook"}}
    anonymous = (await gql(SUBSCRIBE, variables, token=""))["data"]["subscribeWebhook"]
    assert anonymous["code"] == "UNAUTHENTICATED"
    member = await token_for("member@example.com")
    assert (await gql(SUBSCRIBE, variables, token=member)
            )["data"]["subscribeWebhook"]["code"] == "FORBIDDEN"
    elsewhere = await token_for("pm@example.com", Role.PAGE_MANAGEMENT, other_id)
    assert (await gql(SUBSCRIBE, variables, token=elsewhere)
            )["data"]["subscribeWebhook"]["code"] == "FORBIDDEN"
    await add_webhook(gql, Endpoint(receiver))
    for token in ("", member, elsewhere):
        body = await gql(WEBHOOKS, {"p": page_id}, token=token, expect_errors=True)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")
    manager = await token_for("acme-pm@example.com", Role.PAGE_MANAGEMENT, page_id)
    assert [h["url"] for h in await hooks(gql, page_id, manager)] == [receiver.url + "/hook"]
