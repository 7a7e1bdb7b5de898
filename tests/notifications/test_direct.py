"""Direct IM messages through an app an administrator set up (Slack bot token, Feishu app,
WeCom app), against a local HTTP server that stands in for the three APIs (SLACK_API_URL,
FEISHU_API_URL, WECOM_API_URL point at it) and answers the way they do: the member is found
by their account's email, and each notice goes to them alone through the outbox and the
worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from models import Delivery, ImDestination
from models.base import utcnow
from models.enums import DeliveryStatus
from notifications.direct import forget_tokens
from settings import reset_settings
from tests.notifications.support import Received, Receiver, drain, make_page, open_incident
from tests.notifications.support import receiver as receiver

BOT_TOKEN = "xoxb-test-bot-token"
APP_ID, APP_SECRET = "cli_test_app", "feishu-app-secret"
CORP_ID, CORP_SECRET, AGENT_ID = "ww-test-corp", "wecom-app-secret", "1000002"
MEMBERS = {"admin@example.com": ("U0ADMIN", "ou_admin0123456789", "admin.wecom")}
BIND = """
mutation($input: BindDirectMessagesInput!) { bindDirectMessages(input: $input) {
  __typename ... on BindDirectMessagesPayload { destination { id provider direct webhookHost } }
  ... on Error { code message field } } }"""
SUBSCRIBE = """
mutation($id: ID!) { subscribe(input: {pageSlug: "acme", imDestinationId: $id}) {
  __typename ... on Error { code message } } }"""
JS = {"content-type": "application/json"}


class Apis:
    """Slack's Web API and Feishu's open API as far as direct messages go."""

    def __init__(self) -> None:
        self.tokens_issued = 0
        self.revoke_next_message = False
        self.slack_post_answer: tuple[int, dict[str, str], str] | None = None
        self.wecom_tokens = 0
        self.wecom_invalid_user = False

    def __call__(self, r: Received) -> tuple[int, dict[str, str], str]:
        if r.path.startswith("/slack/"):
            return self.slack(r)
        if r.path.startswith("/wecom/"):
            return self.wecom(r)
        if r.path.startswith("/feishu/"):
            return self.feishu(r)
        return 404, {}, "no_service"

    def slack(self, r: Received) -> tuple[int, dict[str, str], str]:
        if r.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return 200, JS, '{"ok": false, "error": "invalid_auth"}'
        if r.path == "/slack/users.lookupByEmail":
            member = MEMBERS.get(r.query.get("email", ""))
            return 200, JS, json.dumps({"ok": True, "user": {"id": member[0]}} if member
                                       else {"ok": False, "error": "users_not_found"})
        if r.path == "/slack/chat.postMessage":
            if self.slack_post_answer is not None:
                return self.slack_post_answer
            known = r.body["channel"] in {m[0] for m in MEMBERS.values()}
            good = r.body["blocks"][0]["type"] == "header" and "API errors" in r.body["text"]
            return 200, JS, json.dumps({"ok": True, "channel": "D0DM"} if known and good
                                       else {"ok": False, "error": "channel_not_found"})
        return 200, JS, '{"ok": false, "error": "unknown_method"}'

    def feishu(self, r: Received) -> tuple[int, dict[str, str], str]:
        if r.path == "/feishu/open-apis/auth/v3/tenant_access_token/internal":
            if r.body != {"app_id": APP_ID, "app_secret": APP_SECRET}:
                return 200, JS, '{"code": 10014, "msg": "app secret invalid"}'
            self.tokens_issued += 1
            return 200, JS, json.dumps({"code": 0, "msg": "ok", "expire": 7200,
                                        "tenant_access_token": f"t-{self.tokens_issued}"})
        if r.headers.get("authorization") != f"Bearer t-{self.tokens_issued}":
            return 400, JS, '{"code": 99991663, "msg": "Invalid access token"}'
        if r.path == "/feishu/open-apis/contact/v3/users/batch_get_id":
            email = r.body["emails"][0]
            found = {"email": email, "user_id": MEMBERS[email][1]} if email in MEMBERS \
                else {"email": email}
            return 200, JS, json.dumps({"code": 0, "data": {"user_list": [found]}})
        if r.path == "/feishu/open-apis/im/v1/messages":
            if self.revoke_next_message:  # Feishu revoked the token before its expiry
                self.revoke_next_message = False
                return 400, JS, '{"code": 99991663, "msg": "Invalid access token"}'
            content = json.loads(r.body["content"])
            good = (r.query.get("receive_id_type") == "open_id"
                    and r.body["msg_type"] == "post" and "API errors" in content["en_us"]["title"])
            return 200, JS, json.dumps({"code": 0, "msg": "success"} if good
                                       else {"code": 230001, "msg": "bad content"})
        return 404, JS, '{"code": 404, "msg": "not found"}'


    def wecom(self, r: Received) -> tuple[int, dict[str, str], str]:
        if r.path == "/wecom/cgi-bin/gettoken":
            if (r.query.get("corpid"), r.query.get("corpsecret")) != (CORP_ID, CORP_SECRET):
                return 200, JS, '{"errcode": 40001, "errmsg": "invalid credential"}'
            self.wecom_tokens += 1
            return 200, JS, json.dumps({"errcode": 0, "errmsg": "ok", "expires_in": 7200,
                                        "access_token": f"w-{self.wecom_tokens}"})
        if r.query.get("access_token") != f"w-{self.wecom_tokens}":
            return 200, JS, '{"errcode": 40014, "errmsg": "invalid access_token"}'
        if r.path == "/wecom/cgi-bin/user/get_userid_by_email":
            member = MEMBERS.get(r.body["email"]) if r.body["email_type"] == 2 else None
            return 200, JS, json.dumps({"errcode": 0, "errmsg": "ok", "userid": member[2]}
                                       if member else {"errcode": 46004,
                                                       "errmsg": "user no exist"})
        if r.path == "/wecom/cgi-bin/message/send":
            good = (r.body["msgtype"] == "markdown" and r.body["agentid"] == int(AGENT_ID)
                    and "API errors" in r.body["markdown"]["content"])
            if not good:
                return 200, JS, '{"errcode": 40008, "errmsg": "invalid message type"}'
            dropped = r.body["touser"] if self.wecom_invalid_user else ""
            return 200, JS, json.dumps({"errcode": 0, "errmsg": "ok", "invaliduser": dropped})
        return 404, JS, '{"errcode": 404}'


@pytest.fixture
def apis(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Iterator[Apis]:
    """Both apps set up by an administrator, their APIs at the local server."""
    fake = Apis()
    receiver.reply = fake
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", f"{receiver.url}/slack")
    monkeypatch.setenv("FEISHU_APP_ID", APP_ID)
    monkeypatch.setenv("FEISHU_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("FEISHU_API_URL", f"{receiver.url}/feishu")
    monkeypatch.setenv("WECOM_CORP_ID", CORP_ID)
    monkeypatch.setenv("WECOM_APP_SECRET", CORP_SECRET)
    monkeypatch.setenv("WECOM_AGENT_ID", AGENT_ID)
    monkeypatch.setenv("WECOM_API_URL", f"{receiver.url}/wecom")
    reset_settings()
    forget_tokens()
    yield fake
    reset_settings()
    forget_tokens()


async def bind(gql: Any, provider: str) -> dict[str, Any]:
    answer = await gql(BIND, {"input": {"provider": provider, "name": "me"}})
    return dict(answer["data"]["bindDirectMessages"])


async def test_a_member_gets_notices_as_direct_messages_on_slack_feishu_and_wecom(
        gql: Any, receiver: Receiver, apis: Apis) -> None:
    providers = await gql("{ directMessageProviders }")
    assert providers["data"]["directMessageProviders"] == ["SLACK", "FEISHU", "WECOM"]
    page_id, comps = await make_page(gql, visibility="INTERNAL")
    for provider in ("SLACK", "FEISHU", "WECOM"):
        bound = await bind(gql, provider)
        assert bound["__typename"] == "BindDirectMessagesPayload", bound
        assert bound["destination"]["direct"] is True
        assert bound["destination"]["webhookHost"] == ""
        answer = await gql(SUBSCRIBE, {"id": bound["destination"]["id"]})
        assert answer["data"]["subscribe"]["__typename"] == "SubscribePayload"
    assert set(await ImDestination.all().values_list("recipient", flat=True)) == \
        set(MEMBERS["admin@example.com"])
    receiver.requests.clear()

    await open_incident(gql, page_id, "API errors", {comps["API"]: "FULL_OUTAGE"})
    await drain()
    posted = {r.path: r for r in receiver.requests}
    assert posted["/slack/chat.postMessage"].body["channel"] == "U0ADMIN"
    message = posted["/feishu/open-apis/im/v1/messages"].body
    assert message["receive_id"] == "ou_admin0123456789"
    assert "API errors" in json.loads(message["content"])["en_us"]["title"]
    assert posted["/wecom/cgi-bin/message/send"].body["touser"] == "admin.wecom"
    assert await Delivery.all().values_list("status", "last_error") == \
        [(DeliveryStatus.SENT, None)] * 3
    assert (apis.tokens_issued, apis.wecom_tokens) == (1, 1)  # lookup's tokens served again


async def test_binding_is_refused_when_not_set_up_or_unknown_to_the_provider(
        gql: Any, receiver: Receiver) -> None:
    refused = await bind(gql, "SLACK")  # no app configured in this test
    assert (refused["code"], refused["field"]) == ("INVALID", "provider")
    assert "not set up" in refused["message"]
    assert (await gql("{ directMessageProviders }"))["data"]["directMessageProviders"] == []
    assert await ImDestination.all().count() == 0


async def test_a_member_the_provider_does_not_know_cannot_bind(
        gql: Any, receiver: Receiver, apis: Apis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(MEMBERS, "admin@example.com")
    for provider, word in (("SLACK", "Slack"), ("FEISHU", "Feishu"), ("WECOM", "WeCom")):
        refused = await bind(gql, provider)
        assert refused["code"] == "INVALID"
        assert refused["message"] == \
            f"{word} has no member with the email address admin@example.com"
    assert await ImDestination.all().count() == 0


async def test_binding_twice_is_a_conflict(gql: Any, receiver: Receiver, apis: Apis) -> None:
    assert (await bind(gql, "SLACK"))["__typename"] == "BindDirectMessagesPayload"
    again = await bind(gql, "SLACK")
    assert again["code"] == "CONFLICT"
    assert await ImDestination.all().count() == 1


async def test_slack_errors_retry_or_fail_as_slack_means_them(
        gql: Any, receiver: Receiver, apis: Apis) -> None:
    page_id, _ = await make_page(gql, visibility="INTERNAL")
    bound = await bind(gql, "SLACK")
    await gql(SUBSCRIBE, {"id": bound["destination"]["id"]})
    apis.slack_post_answer = (429, {"retry-after": "30"}, '{"ok": false, "error": "ratelimited"}')
    await open_incident(gql, page_id, "API errors")
    await drain()
    delivery = await Delivery.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    apis.slack_post_answer = (200, JS, '{"ok": false, "error": "channel_not_found"}')
    await Delivery.filter(id=delivery.id).update(next_attempt_at=utcnow())
    await drain()
    delivery = await Delivery.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "Slack answered channel_not_found"


async def test_a_feishu_token_revoked_early_is_fetched_again(
        gql: Any, receiver: Receiver, apis: Apis) -> None:
    page_id, _ = await make_page(gql, visibility="INTERNAL")
    bound = await bind(gql, "FEISHU")
    await gql(SUBSCRIBE, {"id": bound["destination"]["id"]})
    apis.revoke_next_message = True
    await open_incident(gql, page_id, "API errors")
    await drain()
    assert (await Delivery.get()).status == DeliveryStatus.SENT
    assert apis.tokens_issued == 2


async def test_a_recipient_wecom_drops_is_a_failure_not_a_success(
        gql: Any, receiver: Receiver, apis: Apis) -> None:
    page_id, _ = await make_page(gql, visibility="INTERNAL")
    bound = await bind(gql, "WECOM")
    await gql(SUBSCRIBE, {"id": bound["destination"]["id"]})
    apis.wecom_invalid_user = True
    await open_incident(gql, page_id, "API errors")
    await drain()
    delivery = await Delivery.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "WeCom did not deliver to admin.wecom" in (delivery.last_error or "")


async def test_the_console_offers_direct_messages_and_lists_them(
        gql: Any, client: Any, receiver: Receiver, apis: Apis) -> None:
    from resolvers.session import COOKIE_NAME, sign_in

    signed = await sign_in(email="admin@example.com", password="correct horse")
    client.cookies.set(COOKIE_NAME, signed.cookie)
    page = await client.get("/manage/im")
    assert page.status_code == 200
    assert 'data-mutation="bindDirectMessages"' in page.text
    assert '<option value="FEISHU">' in page.text and "Direct messages to you" not in page.text
    await bind(gql, "FEISHU")
    listed = await client.get("/manage/im")
    assert "Direct messages to you" in listed.text
