"""Discord webhooks: one embed per message (the title links to the page), no mentions.
Success is 204 No Content (200 with `?wait=true`); 429 carries `retry_after` in seconds in
the JSON body and a `Retry-After` header."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx

from models import ImDestination
from models.enums import ImProvider
from notifications.outcome import SENT, Outcome, judge_http, retry, retry_after_seconds
from notifications.render import Notice

KIND = ImProvider.DISCORD
RATE_PER_MINUTE = 30  # Discord limits a webhook to 30 messages a minute per channel
HOSTS = ("discord.com", "discordapp.com")
# Discord's embed limits.
TITLE, DESCRIPTION, FIELDS, FIELD_NAME, FIELD_VALUE, FOOTER, TOTAL = (
    256, 4096, 25, 256, 1024, 2048, 6000)
COLOURS = {"Investigating": 0xD1242F, "Identified": 0xD1242F, "Monitoring": 0xBF8700,
           "Resolved": 0x1A7F37, "Completed": 0x1A7F37, "Scheduled": 0x0969DA,
           "In progress": 0x0969DA}


def _english(word: str) -> str:
    """The English status word of a (possibly translated) one: the colours' keys."""
    from models.words import EVENT_WORDS, words

    for lang_words in (words(lang)["event"] for lang in ("zh-CN",)):
        for key, translated in lang_words.items():
            if translated == word:
                return EVENT_WORDS[str(key)]
    return word


def cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def embed(notice: Notice) -> dict[str, Any]:
    """One embed within Discord's limits (each field's, and 6000 characters in all)."""
    status_line = f"**{notice.kind} · {notice.status}** · {notice.when}"
    heading = f"\n\n**{notice.components_heading}**" if notice.components else ""
    title, footer = cut(notice.title, TITLE), cut(notice.page_name, 200)
    description = cut(f"{status_line}\n\n{notice.message}", 3000) + heading
    room = TOTAL - len(title) - len(description) - len(footer) - 20  # 20: the "more" field
    fields: list[dict[str, Any]] = []
    for name, impact in notice.components:
        field = {"name": cut(name, FIELD_NAME) or "-", "value": cut(impact, FIELD_VALUE),
                 "inline": True}
        size = len(field["name"]) + len(field["value"])
        if len(fields) == FIELDS - 1 or size > room:
            more = len(notice.components) - len(fields)
            fields.append({"name": "…", "value": notice.more_label(more), "inline": True})
            break
        fields.append(field)
        room -= size
    return {
        "title": title,
        "description": description,
        "url": notice.link,
        "color": COLOURS.get(_english(notice.status), 0x59636E),
        "fields": fields,
        "footer": {"text": footer},
        "timestamp": notice.at.isoformat(),
    }


def request(notice: Notice, destination: ImDestination, now: datetime
            ) -> tuple[str, dict[str, Any]]:
    return destination.webhook_url, {
        "content": cut(f"[{notice.page_name}] {notice.title}: {notice.status}", 2000),
        "embeds": [embed(notice)],
        "allowed_mentions": {"parse": []},  # an update mentioning @everyone pings no one
    }


def judge(response: httpx.Response) -> Outcome:
    status = response.status_code
    if status in (200, 204):
        return SENT
    if status == 429:
        after = retry_after_seconds(response.headers.get("retry-after"))
        try:
            body: Any = response.json()
            if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
                after = max(after or 0.0, float(body["retry_after"]))
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
        return retry(f"HTTP 429 (rate limited by Discord): {response.text[:200]}", after)
    verdict = judge_http(response)
    assert verdict is not None  # only 200 passes judge_http, handled above
    return verdict
