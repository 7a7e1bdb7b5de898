"""Slack incoming webhooks: `text` (fallback) + Block Kit `blocks`; success is 200 `ok`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from models import ImDestination
from models.enums import ImProvider
from notifications.outcome import SENT, Outcome, failed, judge_http
from notifications.render import Notice

KIND = ImProvider.SLACK
RATE_PER_MINUTE = 60  # Slack allows about one message a second per webhook
HOSTS = ("hooks.slack.com",)


def escape(text: str) -> str:
    """Slack mrkdwn needs &, < and > escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def request(notice: Notice, destination: ImDestination, now: datetime
            ) -> tuple[str, dict[str, Any]]:
    heading = f"{notice.title} — {notice.status}"
    details = (f"*{escape(notice.kind)} · {escape(notice.status)}* · {escape(notice.when)}\n"
               f"{escape(notice.message)}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": heading[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": details[:3000]}},
    ]
    if notice.components:
        affected = "\n".join(f"• {escape(n)}: {escape(i)}" for n, i in notice.components)
        text = f"*{notice.components_heading}*\n{affected}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    blocks.append({"type": "context", "elements": [{
        "type": "mrkdwn",
        "text": f"{escape(notice.page_name)} · <{notice.link}|{escape(notice.view_label)}>"}]})
    return destination.webhook_url, {"text": f"[{notice.page_name}] {heading}",
                                     "blocks": blocks}


def judge(response: httpx.Response) -> Outcome:
    verdict = judge_http(response)
    if verdict is not None:
        return verdict
    if response.text.strip() != "ok":
        return failed(f"HTTP 200 but Slack answered {response.text[:200]!r}")
    return SENT
