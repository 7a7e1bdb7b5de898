"""Direct messages to a member through an IM app an administrator set up once (settings
`SLACK_BOT_TOKEN`; `FEISHU_APP_ID` + `FEISHU_APP_SECRET`; `WECOM_CORP_ID` +
`WECOM_APP_SECRET` + `WECOM_AGENT_ID`), not through a group's webhook.

The member is found by the email address of their account (`lookup`), so the messages reach
the member themselves and nobody else; `send` then posts one notice:
- Slack: `users.lookupByEmail`, then `chat.postMessage` with the member's user id as channel
  (the bot's direct message), same Block Kit body as a Slack webhook; success is `ok: true`.
- Feishu: a tenant access token from the app's id and secret (kept until shortly before it
  expires), `contact/v3/users/batch_get_id` by email, then `im/v1/messages` to the member's
  `open_id`, same rich-text post as a Feishu bot; success is `code` 0.
- WeCom: an access token from the corp id and the app's secret (kept likewise),
  `user/get_userid_by_email` (company email, then personal email), then `message/send` from
  the app (agent) to the member's `userid`, same markdown as a WeCom robot; success is
  `errcode` 0 *and* no `invaliduser` (WeCom answers 0 for a recipient it dropped)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from models import ImDestination
from models.enums import ImProvider
from notifications import feishu, slack, wecom
from notifications.outcome import SENT, Outcome, failed, judge_code, judge_http, retry
from notifications.render import Notice
from settings import ImApp

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SUPPORTED = (ImProvider.SLACK, ImProvider.FEISHU, ImProvider.WECOM)
# Slack errors worth trying again; any other `error` is for good (e.g. `channel_not_found`).
SLACK_TRANSIENT = frozenset({"ratelimited", "service_unavailable", "request_timeout",
                             "internal_error", "fatal_error"})
FEISHU_THROTTLING = frozenset({99991400, 11232, 230020})
FEISHU_TOKEN_INVALID = frozenset({99991663, 99991661, 99991668})
WECOM_THROTTLING = frozenset({45009, 45033, 45011})
WECOM_TOKEN_INVALID = frozenset({40014, 42001})
_tokens: dict[tuple[str, str], tuple[float, str]] = {}  # (api, app id) -> (expires, token)


class DirectError(Exception):
    """The provider could not find the member, or refused the app; the message says which."""


def forget_tokens() -> None:
    _tokens.clear()


# ---- finding the member ---------------------------------------------------------------------


async def lookup(app: ImApp, email: str) -> str:
    """The member's id in the provider's app, found by their email address."""
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        try:
            if app.provider == ImProvider.SLACK.value:
                return await _slack_lookup(client, app, email)
            if app.provider == ImProvider.WECOM.value:
                return await _wecom_lookup(client, app, email)
            return await _feishu_lookup(client, app, email)
        except httpx.HTTPError as exc:
            raise DirectError(f"{_name(app)} could not be reached: {type(exc).__name__}") \
                from None


NAMES = {"SLACK": "Slack", "FEISHU": "Feishu", "WECOM": "WeCom"}


def name_of(provider: str) -> str:
    return NAMES.get(provider, provider.title())


def _name(app: ImApp) -> str:
    return name_of(app.provider)


async def _slack_lookup(client: httpx.AsyncClient, app: ImApp, email: str) -> str:
    response = await client.get(f"{app.api_url}/users.lookupByEmail", params={"email": email},
                                headers={"authorization": f"Bearer {app.credentials[0]}"})
    body = _json(response)
    user = body.get("user") if body.get("ok") is True else None
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        if body.get("error") == "users_not_found":
            raise DirectError(f"Slack has no member with the email address {email}")
        raise DirectError(f"Slack refused the lookup: {body.get('error') or response.status_code}")
    return str(user["id"])


async def _feishu_lookup(client: httpx.AsyncClient, app: ImApp, email: str) -> str:
    token = await _feishu_token(client, app)
    response = await client.post(f"{app.api_url}/open-apis/contact/v3/users/batch_get_id",
                                 params={"user_id_type": "open_id"}, json={"emails": [email]},
                                 headers={"authorization": f"Bearer {token}"})
    body = _json(response)
    if body.get("code") != 0:
        raise DirectError(f"Feishu refused the lookup: {body.get('code')} {body.get('msg')}")
    users = (body.get("data") or {}).get("user_list") or []
    found = next((u.get("user_id") for u in users if isinstance(u, dict)
                  and isinstance(u.get("user_id"), str) and u["user_id"]), None)
    if found is None:
        raise DirectError(f"Feishu has no member with the email address {email}")
    return str(found)


async def _feishu_token(client: httpx.AsyncClient, app: ImApp, *, fresh: bool = False) -> str:
    async def fetch() -> tuple[str, Any]:
        response = await client.post(
            f"{app.api_url}/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": app.credentials[0], "app_secret": app.credentials[1]},
            timeout=TIMEOUT)
        body = _json(response)
        token = body.get("tenant_access_token")
        if body.get("code") != 0 or not isinstance(token, str):
            raise DirectError(f"Feishu refused the app's credentials: {body.get('code')} "
                              f"{body.get('msg')}")
        return token, body.get("expire")

    return await _app_token((app.api_url, app.credentials[0]), fresh, fetch)


async def _wecom_token(client: httpx.AsyncClient, app: ImApp, *, fresh: bool = False) -> str:
    async def fetch() -> tuple[str, Any]:
        response = await client.get(f"{app.api_url}/cgi-bin/gettoken", timeout=TIMEOUT,
                                    params={"corpid": app.credentials[0],
                                            "corpsecret": app.credentials[1]})
        body = _json(response)
        token = body.get("access_token")
        if body.get("errcode") != 0 or not isinstance(token, str):
            raise DirectError(f"WeCom refused the app's credentials: {body.get('errcode')} "
                              f"{body.get('errmsg')}")
        return token, body.get("expires_in")

    return await _app_token((app.api_url, app.credentials[0] + "/" + app.credentials[2]),
                            fresh, fetch)


async def _app_token(key: tuple[str, str], fresh: bool,
                     fetch: Callable[[], Awaitable[tuple[str, Any]]]) -> str:
    """An app's access token, kept until 5 minutes before it expires (the provider's
    lifetime in seconds, 7200 when it does not say; kept at least a minute)."""
    cached = _tokens.get(key)
    if cached is not None and not fresh and cached[0] > time.monotonic():
        return cached[1]
    token, expire = await fetch()
    lifetime = expire if isinstance(expire, int) else 7200
    _tokens[key] = (time.monotonic() + max(60, lifetime - 300), token)
    return token


async def _wecom_lookup(client: httpx.AsyncClient, app: ImApp, email: str) -> str:
    token = await _wecom_token(client, app)
    for email_type in (1, 2):  # the company mailbox, then a personal address
        response = await client.post(f"{app.api_url}/cgi-bin/user/get_userid_by_email",
                                     params={"access_token": token},
                                     json={"email": email, "email_type": email_type})
        answer = _json(response)
        if answer.get("errcode") == 0 and isinstance(answer.get("userid"), str) \
                and answer["userid"]:
            return str(answer["userid"])
        if answer.get("errcode") in WECOM_TOKEN_INVALID:
            raise DirectError(f"WeCom refused the app's token: {answer.get('errmsg')}")
    raise DirectError(f"WeCom has no member with the email address {email}")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


# ---- sending --------------------------------------------------------------------------------


async def send(client: httpx.AsyncClient, notice: Notice, destination: ImDestination,
               app: ImApp | None, now: datetime) -> Outcome:
    """Post one notice to the member's direct messages."""
    if app is None or app.provider != destination.provider.value:
        return failed(f"Direct messages on {name_of(destination.provider.value)} are no longer "
                      "set up by an administrator")
    try:
        if app.provider == ImProvider.SLACK.value:
            return await _slack_send(client, notice, destination, app, now)
        if app.provider == ImProvider.WECOM.value:
            return await _wecom_send(client, notice, destination, app, now)
        return await _feishu_send(client, notice, destination, app, now)
    except httpx.TimeoutException as exc:
        return retry(f"timed out: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return retry(f"could not reach {_name(app)}: {type(exc).__name__}: {exc}")
    except DirectError as exc:  # the app's credentials were refused while sending
        return retry(str(exc))


async def _slack_send(client: httpx.AsyncClient, notice: Notice, destination: ImDestination,
                      app: ImApp, now: datetime) -> Outcome:
    _, body = slack.request(notice, destination, now)
    response = await client.post(f"{app.api_url}/chat.postMessage",
                                 json={"channel": destination.recipient, **body},
                                 headers={"authorization": f"Bearer {app.credentials[0]}"},
                                 timeout=TIMEOUT)
    verdict = judge_http(response)
    if verdict is not None:
        return verdict
    answer = _json(response)
    if answer.get("ok") is True:
        return SENT
    error = str(answer.get("error") or response.text[:200])
    if error in SLACK_TRANSIENT:
        return retry(f"Slack answered {error}", 60.0)
    return failed(f"Slack answered {error}")


async def _feishu_send(client: httpx.AsyncClient, notice: Notice, destination: ImDestination,
                       app: ImApp, now: datetime) -> Outcome:
    _, body = feishu.request(notice, destination, now)
    message = {"receive_id": destination.recipient, "msg_type": "post",
               "content": json.dumps(body["content"]["post"], ensure_ascii=False)}
    for fresh in (False, True):  # a token revoked early is fetched again, once
        token = await _feishu_token(client, app, fresh=fresh)
        response = await client.post(f"{app.api_url}/open-apis/im/v1/messages",
                                     params={"receive_id_type": "open_id"}, json=message,
                                     headers={"authorization": f"Bearer {token}"},
                                     timeout=TIMEOUT)
        if _json(response).get("code") not in FEISHU_TOKEN_INVALID:
            break
    return judge_code(response, ("code",), FEISHU_THROTTLING)


async def _wecom_send(client: httpx.AsyncClient, notice: Notice, destination: ImDestination,
                      app: ImApp, now: datetime) -> Outcome:
    _, body = wecom.request(notice, destination, now)
    message = {"touser": destination.recipient, "msgtype": "markdown",
               "agentid": int(app.credentials[2]), "markdown": body["markdown"]}
    for fresh in (False, True):  # a token revoked early is fetched again, once
        token = await _wecom_token(client, app, fresh=fresh)
        response = await client.post(f"{app.api_url}/cgi-bin/message/send",
                                     params={"access_token": token}, json=message,
                                     timeout=TIMEOUT)
        answer = _json(response)
        if answer.get("errcode") not in WECOM_TOKEN_INVALID:
            break
    verdict = judge_code(response, ("errcode",), WECOM_THROTTLING)
    dropped = answer.get("invaliduser")
    if verdict.kind == "sent" and dropped:
        return failed(f"WeCom did not deliver to {dropped} (invaliduser): the member left, or "
                      "the app is not visible to them")
    return verdict
