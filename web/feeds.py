"""Feeds of a page: Atom and RSS of its events and their updates, iCalendar of its maintenance.

Routes for `/p/{slug}/…` and, for the default page, the same names at the root; the badges'
routes (web/badges.py) are listed here too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import icalendar
from feedgen.feed import FeedGenerator

import i18n
from models.enums import EventKind
from models.markdown import page_html as markdown
from models.words import event_word
from resolvers import domains
from resolvers.statuspage import EventRow, PageSnapshot
from web import badges
from web.page_formats import PageFormat, format_routes

FEED_SIZE = 50
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ICS = "text/calendar; charset=utf-8"


def _page_url(snap: PageSnapshot, base_url: str) -> str:
    return domains.page_root(snap.page.slug, base_url)


def _timeline_html(event: EventRow, zone: ZoneInfo) -> str:
    """Every update, newest first: time, status and the message (Markdown, sanitised)."""
    parts = []
    if event.kind == EventKind.MAINTENANCE and event.scheduled_start and event.scheduled_end:
        start = event.scheduled_start.astimezone(zone)
        end = event.scheduled_end.astimezone(zone)
        parts.append(f"<p><strong>{escape(event_word('SCHEDULED'))}</strong> "
                     f"{start:%Y-%m-%d %H:%M} – "
                     f"{end:%Y-%m-%d %H:%M} {escape(zone.key)}</p>")
    for u in reversed(event.updates):
        at = u.at.astimezone(zone)
        parts.append(f"<div><p><small>{at:%Y-%m-%d %H:%M} {escape(zone.key)}</small><br>"
                     f"<strong>{escape(event_word(u.status))}</strong></p>"
                     f"{markdown(u.message)}</div>")
    return "\n".join(parts)


def _events(snap: PageSnapshot) -> list[EventRow]:
    events = [*snap.incidents, *snap.maintenances]
    events.sort(key=lambda e: (e.display_at, e.created_at), reverse=True)
    return events[:FEED_SIZE]


def _feed(snap: PageSnapshot, base_url: str, kind: str) -> FeedGenerator:
    """The feed in the page's own language (a feed reader is not a visitor to negotiate
    with: one feed per page)."""
    with i18n.using(snap.page.language):
        return _feed_in_language(snap, base_url, kind)


def _feed_in_language(snap: PageSnapshot, base_url: str, kind: str) -> FeedGenerator:
    page_url = _page_url(snap, base_url)
    zone = ZoneInfo(snap.page.time_zone)
    fg = FeedGenerator()
    fg.id(f"{page_url}/history")
    fg.title(i18n.gettext("%(page)s status") % {"page": snap.page.name})
    fg.description(snap.page.description or i18n.gettext(
        "Incidents and maintenance of %(page)s") % {"page": snap.page.name})
    fg.link(href=f"{page_url}/history.{kind}", rel="self")
    fg.link(href=f"{page_url}/history", rel="alternate")  # last: RSS's <link>
    fg.language(i18n.current())
    # Fixed times (not "now") keep the bytes, hence the ETag, stable for one sequence.
    fg.updated(snap.page.updated_at)
    fg.lastBuildDate(snap.page.updated_at)
    for event in _events(snap):
        url = f"{page_url}/events/{event.id}"
        fe = fg.add_entry(order="append")
        fe.id(url)
        fe.guid(url, permalink=True)
        fe.title(event.title)
        fe.link(href=url)
        fe.published(event.updates[0].at if event.updates else event.created_at)
        fe.updated(event.last_change)
        fe.pubDate(event.updates[-1].at if event.updates else event.created_at)
        html = _timeline_html(event, zone)
        if kind == "rss":
            fe.description(html)
            fe.content(html, type="CDATA")
        else:
            fe.content(html, type="html")
    return fg


def render_atom(base_url: str) -> Callable[[PageSnapshot], bytes]:
    return lambda snap: bytes(_feed(snap, base_url, "atom").atom_str(pretty=True))


def render_rss(base_url: str) -> Callable[[PageSnapshot], bytes]:
    return lambda snap: bytes(_feed(snap, base_url, "rss").rss_str(pretty=True))


def _stamp(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def render_ics(base_url: str) -> Callable[[PageSnapshot], bytes]:
    def render(snap: PageSnapshot) -> bytes:
        with i18n.using(snap.page.language):  # the page's own language, like the feeds
            return _calendar(snap, base_url)

    return render


def _calendar(snap: PageSnapshot, base_url: str) -> bytes:
    page_url = _page_url(snap, base_url)
    host = urlparse(base_url).hostname or "heliograph"
    names = {c.id: c.name for c in snap.components}
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Heliograph//Maintenance calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", i18n.gettext("%(page)s maintenance") % {"page": snap.page.name})
    cal.add("x-wr-timezone", snap.page.time_zone)
    for m in snap.maintenances:
        start = m.scheduled_start or m.started_at
        end = m.scheduled_end or m.ended_at
        if start is None:
            continue
        item = icalendar.Event()
        item.add("uid", f"{m.id}@{host}")
        item.add("dtstamp", _stamp(m.last_change))
        item.add("created", _stamp(m.created_at))
        item.add("last-modified", _stamp(m.last_change))
        item.add("dtstart", _stamp(start))
        if end is not None and end > start:
            item.add("dtend", _stamp(end))
        item.add("summary", m.title)
        status = (i18n.gettext("Status: %(status)s (cancelled)") if m.cancelled
                  else i18n.gettext("Status: %(status)s")) % {"status": event_word(m.status)}
        lines = [status]
        affected = [names[a.component_id] for a in m.affected if a.component_id in names]
        if affected:
            lines.append(i18n.gettext("Components: %(names)s") % {
                "names": i18n.gettext(", ").join(affected)})
        if m.updates:
            lines.append(m.updates[-1].message)
        item.add("description", "\n\n".join(lines))
        item.add("url", f"{page_url}/events/{m.id}")
        item.add("status", "CANCELLED" if m.cancelled else "CONFIRMED")
        item.add("transp", "TRANSPARENT")
        cal.add_component(item)
    return bytes(cal.to_ical())


FORMATS: dict[str, tuple[str, Callable[[str], Callable[[PageSnapshot], bytes]]]] = {
    "history.atom": (ATOM, render_atom),
    "history.rss": (RSS, render_rss),
    "maintenance.ics": (ICS, render_ics),
}


def _endpoint(name: str, default: bool) -> PageFormat:
    media_type, factory = FORMATS[name]
    return PageFormat(media_type=media_type, variant=lambda params: name,
                      render=lambda base_url, params: factory(base_url), default=default)


routes: list[Any] = [
    *format_routes([(prefix + name, _endpoint(name, default))
                    for name in FORMATS
                    for prefix, default in (("/p/{slug}/", False), ("/", True))]),
    *badges.routes,
]
