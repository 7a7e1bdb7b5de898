"""A notification mail reads like the page: the page's words, times in the page's time zone,
a text and an HTML part saying the same, and a resolved update listing nothing as down."""

from __future__ import annotations

import html
import re
from typing import Any
from zoneinfo import ZoneInfo

from models import EventUpdate, Subscriber
from models.base import utcnow
from models.enums import SubscriberChannel, SubscriberState
from tests.notifications.support import (
    CREATE_COMPONENT,
    CREATE_PAGE,
    MailSink,
    drain,
    mail_sink,
    open_incident,
    path_of,
    post_update,
)

__all__ = ["mail_sink"]


def parts(message: Any) -> tuple[str, str]:
    """The text part, and the HTML part reduced to its text."""
    text = message.get_body(("plain",)).get_content()
    markup = message.get_body(("html",)).get_content()
    return text, html.unescape(re.sub(r"<[^>]+>", " ", markup))


async def test_mail_uses_the_pages_words_and_time_zone(gql: Any, client: Any,
                                                        mail_sink: MailSink) -> None:
    page = (await gql(CREATE_PAGE, {"input": {"slug": "acme", "name": "Acme",
                                              "visibility": "PUBLIC",
                                              "timeZone": "Europe/Berlin"}}))
    page_id = page["data"]["createPage"]["page"]["id"]
    api = (await gql(CREATE_COMPONENT, {"input": {"pageId": page_id, "name": "API"}}))
    api_id = api["data"]["createComponent"]["component"]["id"]
    await Subscriber.create(page_id=page_id, channel=SubscriberChannel.EMAIL,
                            email="reader@example.com", state=SubscriberState.CONFIRMED,
                            confirmed_at=utcnow())
    event = await open_incident(gql, page_id, "API down", {api_id: "FULL_OUTAGE"})
    during = (await client.get("/p/acme")).text  # the page while the incident is open
    assert re.search(r"API.*?Major outage", during, re.S)
    await post_update(gql, event["id"], "RESOLVED", "All fixed.")
    await drain()
    first, resolved = mail_sink.to("reader@example.com")
    assert str(first["Subject"]).endswith("Investigating")
    assert str(resolved["Subject"]).endswith("Resolved")

    # The page's own rendering of the same update: its time and its words.
    page_html = (await client.get(path_of(f"/p/acme/events/{event['id']}"))).text
    updates = await EventUpdate.filter(event_id=event["id"]).order_by("at", "created_at")
    for message, update in zip((first, resolved), updates, strict=True):
        local = update.at.astimezone(ZoneInfo("Europe/Berlin"))
        shown = local.strftime("%d %b %Y, %H:%M %Z")  # e.g. "01 Dec 2026, 21:06 CET"
        assert local.tzname() in ("CET", "CEST")
        assert shown in page_html
        for part in parts(message):
            assert shown in part, part
            assert "UTC" not in part

    for part in parts(first):
        assert re.search(r"API:\s*Major outage", part), part
        assert "Full outage" not in part and "Affected components" in part
    assert "API (operational)" in page_html  # and what the page lists once it is resolved
    for part in parts(resolved):
        # Nothing is listed as still down once the incident is resolved.
        assert "outage" not in part.lower(), part
        assert "No longer affected" in part and re.search(r"API:\s*Operational", part), part
