"""DingTalk custom robots: `msgtype` markdown; signed with `timestamp` (ms) and `sign` query
parameters; success is HTTP 200 and `errcode` 0 (130101: more than 20 a minute)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

import httpx

from models import ImDestination
from models.enums import ImProvider
from notifications.outcome import Outcome, judge_code
from notifications.render import Notice

KIND = ImProvider.DINGTALK
RATE_PER_MINUTE = 20  # a robot takes 20 messages a minute, then is muted for 10 minutes
HOSTS = ("oapi.dingtalk.com",)
THROTTLING = frozenset({130101, 130102})


def sign(timestamp_ms: int, secret: str) -> str:
    """base64(HMAC-SHA256 keyed with the secret over "timestamp\\nsecret") (URL-encoded by
    httpx when it becomes a query parameter)."""
    message = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def markdown(notice: Notice) -> str:
    lines = [f"### {notice.title}", f"**{notice.kind} · {notice.status}** · {notice.when}",
             "",
             notice.message.strip()]
    if notice.components:
        lines += ["", f"{notice.components_heading}:",
                  *(f"- {n}: {i}" for n, i in notice.components)]
    lines += ["", f"[{notice.view_label}]({notice.link})"]
    return "\n".join(lines)


def request(notice: Notice, destination: ImDestination, now: datetime
            ) -> tuple[str, dict[str, Any]]:
    url = httpx.URL(destination.webhook_url)
    if destination.secret:
        timestamp = int(now.timestamp() * 1000)
        url = url.copy_merge_params({"timestamp": str(timestamp),
                                     "sign": sign(timestamp, destination.secret)})
    body = {"msgtype": "markdown",
            "markdown": {"title": f"[{notice.page_name}] {notice.title}",
                         "text": markdown(notice)}}
    return str(url), body


def judge(response: httpx.Response) -> Outcome:
    return judge_code(response, ("errcode",), THROTTLING)
