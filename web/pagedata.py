"""The GraphQL documents behind the public pages, and what each page shows from their answers.

The status page itself is rendered from the page's snapshot (web/status_html.py); history and
event pages read through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request

from web.present import parse_dt
from web.query import run

EVENT_FIELDS = """
fragment EventFields on Event {
  id kind status title startedAt endedAt scheduledStart scheduledEnd retrospective
  components { impact component { id name } }
  updates { id at status message }
}
"""

LAYOUT = """
query Layout($slug: String!) {
  viewer { id email name isAdmin }
  page(slug: $slug) {
    id slug name description visibility timeZone sequence status statusDescription
    logoUrl accentColor
    groups { id name description status components { ...Shown } }
    components { ...Shown group { id } }
  }
}
fragment Shown on Component { id name description status showcase onlyShowIfDegraded }
"""

EVENT = """
query Event($slug: String!, $id: ID!) {
  viewer { id email name isAdmin }
  page(slug: $slug) { id slug name timeZone visibility sequence logoUrl accentColor }
  event(id: $id) { ...EventFields }
}
""" + EVENT_FIELDS

HISTORY = """
query History($slug: String!, $after: String) {
  page(slug: $slug) {
    events(state: PAST, first: 100, after: $after) {
      nodes { ...EventFields } pageInfo { hasNextPage endCursor }
    }
  }
}
""" + EVENT_FIELDS

ACTIVE = """
query Active($slug: String!) {
  page(slug: $slug) { events(state: ACTIVE, first: 100) { nodes { ...EventFields } } }
}
""" + EVENT_FIELDS

def event_start(event: dict[str, Any]) -> datetime | None:
    """When an event began (or is planned to), for ordering and month pages."""
    return parse_dt(event.get("startedAt") or event.get("scheduledStart"))


def latest_update(event: dict[str, Any]) -> dict[str, Any] | None:
    updates = event.get("updates") or []
    return updates[-1] if updates else None


def _nodes(found: dict[str, Any] | None, name: str) -> list[dict[str, Any]]:
    return list(((found or {}).get(name) or {}).get("nodes") or [])


async def event_page(request: Request, slug: str, event_id: str, *, strict: bool = False
                     ) -> dict[str, Any] | None:
    """The page and one of its events, or None when either is not visible (`strict`: raises
    web.query.Unreadable when it cannot be read)."""
    answer = await run(request, EVENT, {"slug": slug, "id": event_id}, strict=strict)
    data = answer.data or {}
    page, event = data.get("page"), data.get("event")
    if page is None or event is None:
        return None
    if not await _event_on_page(request, slug, event_id, strict):
        return None
    return {"viewer": data.get("viewer"), "page": page, "event": event}


async def _event_on_page(request: Request, slug: str, event_id: str, strict: bool) -> bool:
    """Whether the event belongs to this page (so no page shows another page's event)."""
    answer = await run(request, "query($id: ID!) { event(id: $id) { page { slug } } }",
                       {"id": event_id}, strict=strict)
    event = (answer.data or {}).get("event") or {}
    return (event.get("page") or {}).get("slug") == slug


async def page_events_between(request: Request, slug: str, start: datetime,
                              end: datetime) -> list[dict[str, Any]] | None:
    """Events that began in [start, end), newest first; None when the page is not visible
    (raises web.query.Unreadable when it cannot be read)."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(20):  # at most 2,000 past events walked back for one month
        answer = await run(request, HISTORY, {"slug": slug, "after": after}, strict=True)
        page = (answer.data or {}).get("page")
        if page is None:
            return None if not found else found
        connection = page["events"]
        found += _began_within(connection["nodes"], start, end)
        if not _older_events_remain(connection, start):
            break
        after = connection["pageInfo"]["endCursor"]
    active = await run(request, ACTIVE, {"slug": slug}, strict=True)
    found += _began_within(_nodes((active.data or {}).get("page"), "events"), start, end)
    found.sort(key=lambda e: event_start(e) or start, reverse=True)
    return found


def _began_within(events: list[dict[str, Any]], start: datetime,
                  end: datetime) -> list[dict[str, Any]]:
    return [e for e in events if (begun := event_start(e)) is not None and start <= begun < end]


def _older_events_remain(connection: dict[str, Any], start: datetime) -> bool:
    """Whether the next page of past events (newest first) may still hold one after `start`."""
    nodes = connection["nodes"]
    oldest = event_start(nodes[-1]) if nodes else None
    return bool(connection["pageInfo"]["hasNextPage"]) and not (oldest and oldest < start)
