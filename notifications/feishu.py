"""Feishu (Lark) custom bots: `msg_type` post, signed with `timestamp` and `sign` in the body;
success is HTTP 200 and `code` 0 (11232 is Feishu's throttling)."""

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
from notifications.render import Notice, plain_lines

KIND = ImProvider.FEISHU
RATE_PER_MINUTE = 100  # 100 a minute and 5 a second per bot
HOSTS = ("open.feishu.cn", "open.larksuite.com")
THROTTLING = frozenset({11232})


def sign(timestamp: int, secret: str) -> str:
    """base64(HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message)."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def request(notice: Notice, destination: ImDestination, now: datetime
            ) -> tuple[str, dict[str, Any]]:
    content = [[{"tag": "text", "text": line}] for line in plain_lines(notice)]
    content.append([{"tag": "a", "text": notice.view_label, "href": notice.link}])
    language = "zh_cn" if notice.language == "zh-CN" else "en_us"  # Feishu's post locales
    body: dict[str, Any] = {
        "msg_type": "post",
        "content": {"post": {language: {"title": f"[{notice.page_name}] {notice.title}",
                                        "content": content}}},
    }
    if destination.secret:
        timestamp = int(now.timestamp())
        body = {"timestamp": str(timestamp), "sign": sign(timestamp, destination.secret),
                **body}
    return destination.webhook_url, body


def judge(response: httpx.Response) -> Outcome:
    return judge_code(response, ("code", "StatusCode"), THROTTLING)
