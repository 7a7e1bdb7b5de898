"""The GraphQL documents behind the public pages, and what each page shows from their answers.

The status page reads in three parts (layout, figures, events), so a part the API cannot answer
leaves the rest of the page intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request

from web import htmlcache
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
    groups { id name description status components { ...Shown } }
    components { ...Shown group { id } }
  }
}
fragment Shown on Component { id name description status showcase onlyShowIfDegraded }
"""

BAR_FIELDS = "availability { ratio } dailyBars { date status availability { ratio } " \
             "events { id title kind } }"
FIGURES = f"""
query Figures($slug: String!) {{
  page(slug: $slug) {{
    groups {{ id {BAR_FIELDS} }}
    components {{ id {BAR_FIELDS} }}
  }}
}}
"""

EVENTS = """
query Events($slug: String!) {
  page(slug: $slug) {
    slug timeZone sequence
    active: events(state: ACTIVE, first: 50) { nodes { ...EventFields } }
    upcoming: events(state: UPCOMING, first: 20) { nodes { ...EventFields } }
    past: events(state: PAST, first: 50) { nodes { ...EventFields } }
  }
}
""" + EVENT_FIELDS

EVENT = """
query Event($slug: String!, $id: ID!) {
  viewer { id email name isAdmin }
  page(slug: $slug) { id slug name timeZone visibility sequence }
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

PAGE_ONLY = "query($slug: String!) { page(slug: $slug) { slug timeZone sequence } }"

DEFAULT_PAGE = "query { pages { slug visibility } }"

RECENT_DAYS = 14


def event_start(event: dict[str, Any]) -> datetime | None:
    """When an event began (or is planned to), for ordering and month pages."""
    return parse_dt(event.get("startedAt") or event.get("scheduledStart"))


def latest_update(event: dict[str, Any]) -> dict[str, Any] | None:
    updates = event.get("updates") or []
    return updates[-1] if updates else None


async def status_page(request: Request, slug: str) -> dict[str, Any] | None:
    """Everything the status page shows, or None when the visitor may not see the page."""
    layout = await run(request, LAYOUT, {"slug": slug})
    page = (layout.data or {}).get("page")
    if page is None:
        return None
    key = (page["id"], page["sequence"])
    known = htmlcache.figures.get(key)
    if known is None:
        figures = await run(request, FIGURES, {"slug": slug})
        known = (figures.data or {}).get("page") if figures.ok else None
        if known is not None:
            htmlcache.figures.put(key, known)
    _merge_figures(page, known if isinstance(known, dict) else None)
    hidden = _hide_quiet_components(page)
    ungrouped = [c for c in page["components"] if not c.get("group")]
    return {
        "viewer": (layout.data or {}).get("viewer"),
        "page": page,
        "ungrouped": ungrouped,
        "hidden_ids": hidden,
        "figures_ok": known is not None,
        **await events_part(request, slug),
    }


async def events_part(request: Request, slug: str) -> dict[str, Any]:
    """The status page's events: active incidents, maintenance, the past 14 days."""
    events = await run(request, EVENTS, {"slug": slug})
    found = (events.data or {}).get("page") if events.ok else None
    active = _nodes(found, "active")
    upcoming = _nodes(found, "upcoming")
    since = datetime.now(UTC) - timedelta(days=RECENT_DAYS)
    recent = [e for e in _nodes(found, "past")
              if (parse_dt(e.get("endedAt")) or event_start(e) or since) >= since]
    return {
        "events_ok": events.ok,
        "events_page": (events.data or {}).get("page"),
        "incidents": [e for e in active if e["kind"] == "INCIDENT"],
        "maintenance": [e for e in active if e["kind"] == "MAINTENANCE"] + upcoming,
        "recent": recent,
    }


def _hide_quiet_components(page: dict[str, Any]) -> list[str]:
    """Statuspage's `only_show_if_degraded`: such a component shows only while not operational
    (groups left empty disappear too). Returns the hidden components' ids."""
    def quiet(c: dict[str, Any]) -> bool:
        return bool(c.get("onlyShowIfDegraded")) and c["status"] == "OPERATIONAL"

    hidden = [c["id"] for c in page["components"] if quiet(c)]
    page["components"] = [c for c in page["components"] if not quiet(c)]
    for group in page["groups"]:
        group["components"] = [c for c in group["components"] if not quiet(c)]
    page["groups"] = [g for g in page["groups"] if g["components"]]
    return hidden


def _nodes(found: dict[str, Any] | None, name: str) -> list[dict[str, Any]]:
    return list(((found or {}).get(name) or {}).get("nodes") or [])


def _merge_figures(page: dict[str, Any], figures: dict[str, Any] | None) -> None:
    by_id: dict[str, dict[str, Any]] = {}
    for item in (figures or {}).get("groups", []) + (figures or {}).get("components", []):
        by_id[item["id"]] = item
    for group in page["groups"]:
        group.update(_figures_of(by_id.get(group["id"])))
        for component in group["components"]:
            component.update(_figures_of(by_id.get(component["id"])))
    for component in page["components"]:
        component.update(_figures_of(by_id.get(component["id"])))


def _figures_of(item: dict[str, Any] | None) -> dict[str, Any]:
    if item is None:
        return {"ratio": None, "bars": [], "has_figures": False}
    return {"ratio": (item.get("availability") or {}).get("ratio"),
            "bars": item.get("dailyBars") or [], "has_figures": True}


async def event_page(request: Request, slug: str, event_id: str) -> dict[str, Any] | None:
    """The page and one of its events, or None when either is not visible."""
    answer = await run(request, EVENT, {"slug": slug, "id": event_id})
    data = answer.data or {}
    page, event = data.get("page"), data.get("event")
    if page is None or event is None:
        return None
    if not await _event_on_page(request, slug, event_id):
        return None
    return {"viewer": data.get("viewer"), "page": page, "event": event}


async def _event_on_page(request: Request, slug: str, event_id: str) -> bool:
    """Whether the event belongs to this page (so no page shows another page's event)."""
    if has_field("Event", "page"):
        answer = await run(request, "query($id: ID!) { event(id: $id) { page { slug } } }",
                           {"id": event_id})
        event = (answer.data or {}).get("event") or {}
        return (event.get("page") or {}).get("slug") == slug
    # Until the API says which page an event is on, ask the ledger's owner directly.
    from models import Event

    return await Event.filter(id=event_id, page__slug=slug).exists()


def has_field(type_name: str, field: str) -> bool:
    """Whether the API has this field yet (pages show what exists)."""
    from schema import build_schema

    found = build_schema()._schema.get_type(type_name)
    return found is not None and field in getattr(found, "fields", {})


async def page_events_between(request: Request, slug: str, start: datetime,
                              end: datetime) -> list[dict[str, Any]] | None:
    """Events that began in [start, end), newest first; None when the page cannot be read."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(20):  # at most 2,000 past events walked back for one month
        answer = await run(request, HISTORY, {"slug": slug, "after": after})
        page = (answer.data or {}).get("page")
        if page is None:
            return None if not found else found
        connection = page["events"]
        for event in connection["nodes"]:
            begun = event_start(event)
            if begun is not None and start <= begun < end:
                found.append(event)
        oldest = event_start(connection["nodes"][-1]) if connection["nodes"] else None
        if not connection["pageInfo"]["hasNextPage"] or (oldest and oldest < start):
            break
        after = connection["pageInfo"]["endCursor"]
    active = await run(request, ACTIVE, {"slug": slug})
    for event in _nodes((active.data or {}).get("page"), "events"):
        begun = event_start(event)
        if begun is not None and start <= begun < end:
            found.append(event)
    found.sort(key=lambda e: event_start(e) or start, reverse=True)
    return found
