"""Microsoft Teams and Discord: payloads checked against JSON Schemas written from the
providers' documentation, posted to real loopback receivers that answer as the providers do
(Teams Workflows 202, connectors' wrapped errors, Discord 204 and 429 `retry_after`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from models import Delivery, ImDestination, Subscriber
from models.base import utcnow
from models.enums import DeliveryStatus, ImProvider
from notifications.registry import provider_for
from notifications.render import Notice
from tests.notifications.support import (
    Received,
    Receiver,
    drain,
    make_page,
    open_incident,
    post_update,
    receiver,
)
from tests.notifications.test_im import BIND, internal_subscription

__all__ = ["receiver"]
Reply = tuple[int, dict[str, str], str]

# ---- schemas, from the documentation ------------------------------------------------------
# Teams: "Send Adaptive Cards using an Incoming Webhook" / Workflows "Post card in a chat or
# channel": a `message` whose attachments carry an Adaptive Card (adaptivecards.io schema,
# TextBlock, FactSet, Action.OpenUrl); a message is at most 28 KB.
TEXT_BLOCK = {
    "type": "object", "required": ["type", "text"], "additionalProperties": False,
    "properties": {
        "type": {"const": "TextBlock"}, "text": {"type": "string", "minLength": 1},
        "wrap": {"type": "boolean"}, "isSubtle": {"type": "boolean"},
        "size": {"enum": ["Default", "Small", "Medium", "Large", "ExtraLarge"]},
        "weight": {"enum": ["Default", "Lighter", "Bolder"]},
        "style": {"enum": ["default", "heading"]},
        "spacing": {"enum": ["None", "Small", "Default", "Medium", "Large", "ExtraLarge",
                             "Padding"]},
    },
}
FACT_SET = {
    "type": "object", "required": ["type", "facts"], "additionalProperties": False,
    "properties": {
        "type": {"const": "FactSet"},
        "facts": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["title", "value"], "additionalProperties": False,
            "properties": {"title": {"type": "string"}, "value": {"type": "string"}}}},
    },
}
OPEN_URL = {
    "type": "object", "required": ["type", "url"], "additionalProperties": False,
    "properties": {"type": {"const": "Action.OpenUrl"}, "title": {"type": "string"},
                   "url": {"type": "string", "pattern": "^https?://"}},
}
TEAMS = {
    "type": "object", "required": ["type", "attachments"],
    "properties": {
        "type": {"const": "message"}, "summary": {"type": "string"},
        "attachments": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["contentType", "content"],
            "properties": {
                "contentType": {"const": "application/vnd.microsoft.card.adaptive"},
                "contentUrl": {"type": "null"},
                "content": {
                    "type": "object", "required": ["type", "version", "body"],
                    "properties": {
                        "$schema": {"const": "http://adaptivecards.io/schemas/adaptive-card.json"},
                        "type": {"const": "AdaptiveCard"},
                        "version": {"enum": ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5"]},
                        "body": {"type": "array", "minItems": 1,
                                 "items": {"oneOf": [TEXT_BLOCK, FACT_SET]}},
                        "actions": {"type": "array", "items": OPEN_URL},
                        "msteams": {"type": "object"},
                    },
                },
            }}},
    },
}
# Discord: "Execute Webhook" (content ≤ 2000, ≤ 10 embeds, allowed_mentions) and the embed
# object's limits (title 256, description 4096, ≤ 25 fields of name 256 / value 1024, footer
# 2048, colour an integer, ISO 8601 timestamp; 6000 characters over all embeds).
EMBED_FIELD = {
    "type": "object", "required": ["name", "value"], "additionalProperties": False,
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 256},
                   "value": {"type": "string", "minLength": 1, "maxLength": 1024},
                   "inline": {"type": "boolean"}},
}
DISCORD = {
    "type": "object", "anyOf": [{"required": ["content"]}, {"required": ["embeds"]}],
    "properties": {
        "content": {"type": "string", "maxLength": 2000},
        "allowed_mentions": {"type": "object", "properties": {"parse": {
            "type": "array", "items": {"enum": ["roles", "users", "everyone"]}}}},
        "embeds": {"type": "array", "maxItems": 10, "items": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "title": {"type": "string", "maxLength": 256},
                "description": {"type": "string", "maxLength": 4096},
                "url": {"type": "string", "pattern": "^https?://"},
                "color": {"type": "integer", "minimum": 0, "maximum": 0xFFFFFF},
                "timestamp": {"type": "string"},
                "footer": {"type": "object", "required": ["text"],
                           "properties": {"text": {"type": "string", "maxLength": 2048}}},
                "fields": {"type": "array", "maxItems": 25, "items": EMBED_FIELD},
            }}},
    },
}


def assert_valid_teams_card(body: Any) -> None:
    jsonschema.validate(body, TEAMS)
    assert len(json.dumps(body).encode()) <= 28 * 1024


def assert_valid_discord_message(body: Any) -> None:
    jsonschema.validate(body, DISCORD)
    total = 0
    for embed in body["embeds"]:
        datetime.fromisoformat(embed["timestamp"]).utcoffset()  # ISO 8601 with an offset
        total += len(embed.get("title", "")) + len(embed.get("description", ""))
        total += len(embed.get("footer", {}).get("text", ""))
        total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    assert total <= 6000
    assert body["allowed_mentions"] == {"parse": []}  # an update never pings a channel


def notice(message: str, components: int, final: bool = False) -> Notice:
    return Notice(page_name="Acme " * 60, page_slug="acme", event_id="e1", kind="Incident",
                  title="T" * 400, status="Investigating", message=message, message_html="",
                  components=tuple((f"Component {n} " + "x" * 150, "Major outage")
                                   for n in range(components)),
                  link="https://status.example.com/p/acme/events/e1",
                  at=datetime(2026, 12, 1, 20, 6, tzinfo=UTC), time_zone="Europe/Berlin",
                  final=final)


@pytest.mark.parametrize("message,components", [("Short.", 0), ("@everyone " * 900, 60)])
def test_payloads_stay_within_the_documented_limits(message: str, components: int) -> None:
    destination: Any = SimpleNamespace(webhook_url="https://x.invalid/hook", secret=None)
    item = notice(message, components)
    _, teams = provider_for(ImProvider.TEAMS).request(item, destination, utcnow())
    assert_valid_teams_card(teams)
    _, discord = provider_for(ImProvider.DISCORD).request(item, destination, utcnow())
    assert_valid_discord_message(discord)
    embed = discord["embeds"][0]
    # Times read as on the page: 20:06 UTC is 21:06 in Berlin in December.
    assert "01 Dec 2026, 21:06 CET" in embed["description"]
    assert any("21:06 CET" in b.get("text", "")
               for b in teams["attachments"][0]["content"]["body"])
    if components:  # cut to fit, and saying how many were left out
        assert embed["fields"][-1]["name"] == "…" and "more" in embed["fields"][-1]["value"]


def like_teams_and_discord(receiver: Receiver) -> Callable[[Received], Reply]:
    """Teams Workflows accept with 202 (the first Teams request meets a connector's wrapped
    429); Discord rate-limits its first request with 429, then answers 204."""
    def seen(prefix: str) -> int:
        return sum(q.path.startswith(prefix) for q in receiver.requests)

    def reply(r: Received) -> Reply:
        if r.path.startswith("/workflows"):
            assert_valid_teams_card(r.body)
            if seen("/workflows") == 1:
                return (200, {"content-type": "text/plain"},
                        "Webhook message delivery failed with error: Microsoft Teams endpoint "
                        "returned HTTP error 429 with ContextId tcid=0,server=x")
            return 202, {}, ""
        if r.path.startswith("/api/webhooks/"):
            assert_valid_discord_message(r.body)
            if seen("/api/webhooks/") == 1:
                return (429, {"content-type": "application/json", "retry-after": "31"},
                        json.dumps({"message": "You are being rate limited.",
                                    "retry_after": 30.5, "global": False}))
            return 204, {}, ""
        return 404, {}, "unknown"

    return reply


async def test_teams_and_discord_messages_are_posted_and_their_throttling_honoured(
        gql: Any, receiver: Receiver) -> None:
    receiver.reply = like_teams_and_discord(receiver)
    page_id, comps = await make_page(gql, visibility="INTERNAL")
    for provider, path in (("TEAMS", "/workflows/abc/triggers/manual/paths/invoke?sig=s"),
                           ("DISCORD", "/api/webhooks/123/token")):
        body = await gql(BIND, {"input": {"provider": provider,
                                          "webhookUrl": receiver.url + path}})
        destination = body["data"]["bindImDestination"]["destination"]["id"]
        answer = await gql("""mutation($input: SubscribeInput!) { subscribe(input: $input) {
            __typename } }""", {"input": {"pageSlug": "acme", "imDestinationId": destination}})
        assert answer["data"]["subscribe"]["__typename"] == "SubscribePayload"
    await open_incident(gql, page_id, "API errors", {comps["API"]: "FULL_OUTAGE"})
    before = utcnow()
    await drain()
    rows = {r.subscriber.destination.provider: r for r in await Delivery.all().prefetch_related(
        "subscriber__destination")}
    assert {p: (d.status, d.attempts) for p, d in rows.items()} == {
        ImProvider.TEAMS: (DeliveryStatus.PENDING, 1),
        ImProvider.DISCORD: (DeliveryStatus.PENDING, 1)}
    assert "HTTP error 429" in (rows[ImProvider.TEAMS].last_error or "")
    assert rows[ImProvider.TEAMS].next_attempt_at >= before + timedelta(seconds=59)
    # Discord's retry_after (30.5 s in the body, 31 in the header) is waited out.
    assert rows[ImProvider.DISCORD].next_attempt_at >= before + timedelta(seconds=30.5)
    await Delivery.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=utcnow())
    await drain()
    assert await Delivery.all().values_list("status", "attempts") == [
        (DeliveryStatus.SENT, 2), (DeliveryStatus.SENT, 2)]
    discord = [r for r in receiver.requests if r.path.startswith("/api/webhooks/")][-1].body
    assert discord["embeds"][0]["fields"] == [
        {"name": "API", "value": "Major outage", "inline": True}]


async def test_discord_gets_at_most_30_messages_a_minute(gql: Any, receiver: Receiver) -> None:
    receiver.reply = lambda r: (204, {}, "")
    page_id, _ = await internal_subscription(gql, receiver, "DISCORD", "/api/webhooks/1/t")
    event = await open_incident(gql, page_id, "Chatty")
    await post_update(gql, event["id"], "IDENTIFIED", "Found it")
    await post_update(gql, event["id"], "MONITORING", "Watching")
    # 28 messages went to this webhook in the last minute (cheaper than publishing 28 more).
    subscriber = await Subscriber.get(page_id=page_id)
    now = utcnow()
    await Delivery.bulk_create([Delivery(
        page_id=page_id, subscriber_id=subscriber.id, update_id=None, message_id=f"<{n}@x>",
        status=DeliveryStatus.SENT, sent_at=now - timedelta(seconds=n), attempts=1,
        created_at=now - timedelta(hours=1)) for n in range(28)])
    await drain()
    assert [r.body["embeds"][0]["title"] for r in receiver.requests] == ["Chatty", "Chatty"]
    waiting = await Delivery.get(status=DeliveryStatus.PENDING)
    assert "30 messages a minute" in (waiting.last_error or "")
    assert waiting.attempts == 0 and waiting.next_attempt_at > utcnow() + timedelta(seconds=30)


WEBHOOKS = [
    ("TEAMS", "https://prod-12.westeurope.logic.azure.com/workflows/a/triggers/manual", True),
    ("TEAMS", "https://default1.ab.environment.api.powerplatform.com/powerautomate/x", True),
    ("TEAMS", "https://acme.webhook.office.com/webhookb2/x/IncomingWebhook/y/z", True),
    ("TEAMS", "http://acme.webhook.office.com/webhookb2/x", False),
    ("TEAMS", "https://logic.azure.com.evil.example/x", False),
    ("TEAMS", "https://evil.example/?h=.logic.azure.com", False),
    ("TEAMS", "https://webhook.office.com/x", False),
    ("DISCORD", "https://discord.com/api/webhooks/1/token", True),
    ("DISCORD", "https://discordapp.com/api/webhooks/1/token", True),
    ("DISCORD", "https://discord.com.evil.example/api/webhooks/1/token", False),
    ("DISCORD", "https://127.0.0.1/api/webhooks/1/token", False),
]


async def test_in_production_a_webhook_is_https_on_the_providers_hosts(
        gql: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import resolvers.im

    real = resolvers.im.get_settings()
    monkeypatch.setattr(resolvers.im, "get_settings",
                        lambda: SimpleNamespace(**{**vars(real), "production": True}))
    for provider, url, accepted in WEBHOOKS:
        body = await gql(BIND, {"input": {"provider": provider, "webhookUrl": url}})
        result = body["data"]["bindImDestination"]
        if accepted:
            assert result["__typename"] == "BindImDestinationPayload", (url, result)
        else:
            assert (result["code"], result["field"]) == ("INVALID", "webhookUrl"), (url, result)
    assert await ImDestination.all().count() == sum(ok for _, _, ok in WEBHOOKS)
