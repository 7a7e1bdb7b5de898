"""WeCom (WeChat Work) group robots: `msgtype` markdown; success is HTTP 200 and `errcode` 0
(45009: frequency limit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from models import ImDestination
from models.enums import ImProvider
from notifications.outcome import Outcome, judge_code
from notifications.render import Notice

KIND = ImProvider.WECOM
RATE_PER_MINUTE = 20  # a group robot takes 20 messages a minute
HOSTS = ("qyapi.weixin.qq.com",)
THROTTLING = frozenset({45009})


def request(notice: Notice, destination: ImDestination, now: datetime
            ) -> tuple[str, dict[str, Any]]:
    lines = [f"**[{notice.page_name}] {notice.title}**",
             f"> {notice.kind} · <font color=\"warning\">{notice.status}</font> · {notice.when}",
             "",
             notice.message.strip()]
    if notice.components:
        lines += ["", f"{notice.components_heading}:",
                  *(f"- {n}: {i}" for n, i in notice.components)]
    lines += ["", f"[{notice.view_label}]({notice.link})"]
    content = "\n".join(lines).encode()[:4000].decode(errors="ignore")  # 4096-byte limit
    return destination.webhook_url, {"msgtype": "markdown", "markdown": {"content": content}}


def judge(response: httpx.Response) -> Outcome:
    return judge_code(response, ("errcode",), THROTTLING)
