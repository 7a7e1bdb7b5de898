"""Microsoft Teams: Workflows (Power Automate "When a Teams webhook request is received") and
legacy Microsoft 365 connector incoming webhooks both take a `message` with one Adaptive Card
attachment. Success is HTTP 200 or 202 (Workflows accept asynchronously); connectors wrap
Teams' own errors in a 200 whose body says "Microsoft Teams endpoint returned HTTP error N"."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx

from models import ImDestination
from models.enums import ImProvider
from notifications.outcome import SENT, Outcome, failed, judge_http, retry
from notifications.render import Notice

KIND = ImProvider.TEAMS
# Connectors throttle above 4 requests a second per webhook; Workflows run one flow per
# request. One message every 2 seconds stays well inside both.
RATE_PER_MINUTE = 30
# A leading dot: any host under that domain (tenant- and region-specific host names).
HOSTS = (".webhook.office.com", ".logic.azure.com", ".powerplatform.com")
CARD_VERSION = "1.4"  # what Teams renders for webhooks and Workflows (Teams supports ≤ 1.5)
MAX_BYTES = 28 * 1024  # Teams' message size limit
_WRAPPED = re.compile(r"returned HTTP error (\d{3})")


def card(notice: Notice) -> dict[str, Any]:
    """The Adaptive Card: title, status line, message, components as facts, one link."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": notice.page_name, "isSubtle": True, "wrap": True,
         "spacing": "None"},
        {"type": "TextBlock", "text": notice.title, "size": "Large", "weight": "Bolder",
         "wrap": True, "style": "heading"},
        {"type": "TextBlock", "text": f"{notice.kind} · {notice.status} · {notice.when}",
         "weight": "Bolder", "wrap": True},
        # TextBlock takes a Markdown subset; the update's Markdown reads well enough as is.
        {"type": "TextBlock", "text": notice.message.strip()[:4000] or " ", "wrap": True},
    ]
    if notice.components:
        body.append({"type": "TextBlock", "text": notice.components_heading,
                     "weight": "Bolder", "wrap": True})
        body.append({"type": "FactSet", "facts": [
            {"title": name[:200], "value": impact} for name, impact in notice.components[:50]]})
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": notice.view_label,
                     "url": notice.link}],
        "msteams": {"width": "Full"},
    }


def request(notice: Notice, destination: ImDestination, now: datetime
            ) -> tuple[str, dict[str, Any]]:
    return destination.webhook_url, {
        "type": "message",
        "summary": f"[{notice.page_name}] {notice.title}: {notice.status}",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                         "contentUrl": None, "content": card(notice)}],
    }


def judge(response: httpx.Response) -> Outcome:
    status = response.status_code
    if status not in (200, 202):
        verdict = judge_http(response)
        return verdict if verdict is not None else failed(f"HTTP {status}")
    wrapped = _WRAPPED.search(response.text[:500])
    if wrapped is None:
        return SENT
    code = int(wrapped.group(1))
    if code == 429:
        return retry(f"throttled by Teams: {response.text[:200]}", 60.0)
    if code >= 500:
        return retry(f"Teams answered HTTP {code}: {response.text[:200]}")
    return failed(f"Teams answered HTTP {code}: {response.text[:200]}")
