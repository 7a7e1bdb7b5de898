"""IM delivery against local HTTP receivers that check each provider's real payload format and
signature, and answer the way each provider does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

from models import Delivery
from models.base import utcnow
from models.enums import DeliveryStatus
from tests.notifications.support import (
    Received,
    Receiver,
    drain,
    make_page,
    open_incident,
    post_update,
    receiver,
)

__all__ = ["receiver"]

BIND = """
mutation($input: BindImDestinationInput!) { bindImDestination(input: $input) {
  __typename ... on BindImDestinationPayload { destination { id provider name webhookHost } }
  ... on Error { code message field } } }"""
SUBSCRIBE = """
mutation($input: SubscribeInput!) { subscribe(input: $input) {
  __typename ... on SubscribePayload { message } ... on Error { code message field } } }"""
SECRET = "SECtest-secret-0123456789"


def feishu_ok(r: Received) -> bool:
    body = r.body
    expected = base64.b64encode(hmac.new(f"{body['timestamp']}\n{SECRET}".encode(), b"",
                                         hashlib.sha256).digest()).decode()
    post = body["content"]["post"]["en_us"]
    return (body["sign"] == expected and body["msg_type"] == "post"
            and "API errors" in post["title"]
            and any(seg.get("tag") == "a" for line in post["content"] for seg in line))


def dingtalk_ok(r: Received) -> bool:
    timestamp = r.query["timestamp"]
    expected = base64.b64encode(hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    return (r.query["sign"] == expected and r.query["access_token"] == "robot1"
            and r.body["msgtype"] == "markdown" and "API errors" in r.body["markdown"]["title"]
            and "View on the status page" in r.body["markdown"]["text"])


def like_the_providers(r: Received) -> tuple[int, dict[str, str], str]:
    """Answer as each provider does, refusing bad formats or signatures like they do."""
    js = {"content-type": "application/json"}
    if r.path == "/slack":
        good = "API errors" in r.body["text"] and r.body["blocks"][0]["type"] == "header"
        return (200, {}, "ok") if good else (400, {}, "invalid_blocks")
    if r.path == "/feishu":
        return (200, js, json.dumps({"code": 0, "msg": "success", "data": {}} if feishu_ok(r)
                                    else {"code": 19021, "msg": "sign match fail"}))
    if r.path == "/dingtalk":
        return (200, js, json.dumps({"errcode": 0, "errmsg": "ok"} if dingtalk_ok(r)
                                    else {"errcode": 310000, "errmsg": "sign not match"}))
    if r.path == "/wecom":
        good = r.body["msgtype"] == "markdown" and "API errors" in r.body["markdown"]["content"]
        return (200, js, json.dumps({"errcode": 0 if good else 40008, "errmsg": "ok"}))
    return 404, {}, "no_service"


async def bind(gql: Any, provider: str, url: str, secret: str | None = None) -> str:
    body = await gql(BIND, {"input": {"provider": provider, "webhookUrl": url,
                                      "name": f"{provider} room", "secret": secret}})
    result = body["data"]["bindImDestination"]
    assert result["__typename"] == "BindImDestinationPayload", result
    return str(result["destination"]["id"])


async def internal_subscription(gql: Any, receiver: Receiver, provider: str, path: str,
                                secret: str | None = None) -> tuple[str, dict[str, str]]:
    page_id, comps = await make_page(gql, visibility="INTERNAL")
    destination = await bind(gql, provider, receiver.url + path, secret)
    answer = (await gql(SUBSCRIBE, {"input": {"pageSlug": "acme",
                                              "imDestinationId": destination}}))
    assert answer["data"]["subscribe"]["__typename"] == "SubscribePayload"
    return page_id, comps


async def test_each_provider_gets_its_own_format_and_signature(gql: Any,
                                                               receiver: Receiver) -> None:
    receiver.reply = like_the_providers
    page_id, comps = await make_page(gql, visibility="INTERNAL")
    for provider, path, secret in (("SLACK", "/slack", None), ("FEISHU", "/feishu", SECRET),
                                   ("DINGTALK", "/dingtalk?access_token=robot1", SECRET),
                                   ("WECOM", "/wecom?key=abc", None)):
        destination = await bind(gql, provider, receiver.url + path, secret)
        answer = await gql(SUBSCRIBE, {"input": {"pageSlug": "acme",
                                                 "imDestinationId": destination}})
        assert answer["data"]["subscribe"]["__typename"] == "SubscribePayload"
    await open_incident(gql, page_id, "API errors", {comps["API"]: "FULL_OUTAGE"})
    await drain()
    assert sorted(r.path for r in receiver.requests) == ["/dingtalk", "/feishu", "/slack",
                                                         "/wecom"]
    rows = await Delivery.all().values_list("status", "last_error")
    assert rows == [(DeliveryStatus.SENT, None)] * 4


async def test_http_200_with_a_non_zero_errcode_is_a_failure(gql: Any,
                                                            receiver: Receiver) -> None:
    receiver.reply = lambda r: (200, {"content-type": "application/json"},
                                '{"errcode":310000,"errmsg":"keywords not in content"}')
    page_id, _ = await internal_subscription(gql, receiver, "DINGTALK", "/robot")
    await open_incident(gql, page_id, "API errors")
    await drain()
    delivery = await Delivery.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error == "errcode 310000: keywords not in content"
    assert len(receiver.requests) == 1


async def test_throttling_and_server_errors_are_retried_client_errors_are_not(
        gql: Any, receiver: Receiver) -> None:
    answers = [(200, {"content-type": "application/json"},
                '{"code":11232,"msg":"frequency limited"}'),
               (429, {"retry-after": "120"}, "rate limited"),
               (503, {}, "unavailable"),
               (404, {}, "no_service")]
    receiver.reply = lambda r: answers[len(receiver.requests) - 1]
    page_id, _ = await internal_subscription(gql, receiver, "FEISHU", "/hook", SECRET)
    await open_incident(gql, page_id, "API errors")
    seen = []
    for _ in answers:
        await Delivery.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=utcnow())
        before = utcnow()
        await drain()
        delivery = await Delivery.get()
        seen.append((delivery.status, delivery.attempts))
        if len(seen) == 2:  # Retry-After is honoured
            assert delivery.next_attempt_at >= before + timedelta(seconds=119)
    assert seen == [(DeliveryStatus.PENDING, 1), (DeliveryStatus.PENDING, 2),
                    (DeliveryStatus.PENDING, 3), (DeliveryStatus.FAILED, 4)]
    assert (await Delivery.get()).last_error == "HTTP 404: no_service"


async def test_a_dingtalk_robot_gets_at_most_20_messages_a_minute(gql: Any,
                                                                 receiver: Receiver) -> None:
    page_id, _ = await internal_subscription(gql, receiver, "DINGTALK", "/robot")
    event = await open_incident(gql, page_id, "Chatty")
    for n in range(20):
        await post_update(gql, event["id"], "IDENTIFIED", f"Update {n}")
    await drain()
    assert len(receiver.requests) == 20
    waiting = await Delivery.get(status=DeliveryStatus.PENDING)
    assert "20 messages a minute" in (waiting.last_error or "")
    assert waiting.attempts == 0 and waiting.next_attempt_at > utcnow() + timedelta(seconds=30)
