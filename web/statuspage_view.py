"""The status page's template context, built from the page's snapshot (resolvers.statuspage,
shared per sequence with the Statuspage JSON and the feeds) and its compact figures, with no
GraphQL round trip. The dictionaries keep the API's field names, so the templates read them
as they read the API's answers (history and event pages still do)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

import i18n
from models import Component, ComponentGroup
from models.enums import EventKind, EventStatus, Visibility
from resolvers import domains
from resolvers.status import describe
from resolvers.statuspage import EventRow, PageSnapshot
from web.figures import DAYS, ItemFigures
from web.present import percent
from web.templating import templates

RECENT_DAYS = 14
ACTIVE_LIMIT, UPCOMING_LIMIT, PAST_LIMIT = 50, 20, 50
OPEN_INCIDENT = (EventStatus.INVESTIGATING, EventStatus.IDENTIFIED, EventStatus.MONITORING)
MAX_ROWS = 8192


def _event(e: EventRow, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": e.id, "kind": e.kind.value, "status": e.status.value, "title": e.title,
        "startedAt": e.started_at, "endedAt": e.ended_at,
        "scheduledStart": e.scheduled_start, "scheduledEnd": e.scheduled_end,
        "retrospective": e.retrospective,
        "components": [{"impact": a.impact.value,
                        "component": {"id": a.component_id, "name": names[a.component_id]}}
                       for a in e.affected if a.component_id in names],
        "updates": [{"id": u.id, "at": u.at, "status": u.status.value, "message": u.message}
                    for u in e.updates],
    }


def _newest(value: datetime | None) -> datetime:
    return value or datetime.min.replace(tzinfo=UTC)


def events_context(snap: PageSnapshot) -> dict[str, Any]:
    """Active incidents, maintenance (in progress, then upcoming) and the past 14 days, in the
    orders of `page.events(state: …)`."""
    names = {c.id: c.name for c in snap.components}
    every = [*snap.incidents, *snap.maintenances]
    active = sorted((e for e in every if (e.kind == EventKind.INCIDENT and e.status in
                                           OPEN_INCIDENT) or e.status == EventStatus.IN_PROGRESS),
                    key=lambda e: (_newest(e.started_at), e.id), reverse=True)[:ACTIVE_LIMIT]
    upcoming = sorted((e for e in snap.maintenances if e.status == EventStatus.SCHEDULED),
                      key=lambda e: (_newest(e.scheduled_start), e.id))[:UPCOMING_LIMIT]
    past = sorted((e for e in every if e.status.final),
                  key=lambda e: (_newest(e.ended_at), e.id), reverse=True)[:PAST_LIMIT]
    since = datetime.now(UTC) - timedelta(days=RECENT_DAYS)
    recent = [e for e in past if (e.ended_at or e.started_at or e.created_at) >= since]
    return {
        "events_ok": True,
        "incidents": [_event(e, names) for e in active if e.kind == EventKind.INCIDENT],
        "maintenance": [_event(e, names) for e in active if e.kind == EventKind.MAINTENANCE]
        + [_event(e, names) for e in upcoming],
        "recent": [_event(e, names) for e in recent],
    }


def page_dict(snap: PageSnapshot) -> dict[str, Any]:
    page = snap.page
    status = snap.page_status()
    return {
        "id": page.id, "slug": page.slug, "name": page.name, "description": page.description,
        "visibility": Visibility(page.visibility).value, "timeZone": page.time_zone,
        "sequence": int(page.sequence), "status": status.value,
        "statusDescription": describe(status), "logoUrl": page.logo_url,
        "accentColor": page.accent_color, "root": domains.page_root(page.slug),
    }


def span_words(since: datetime | None, zone: str, now: datetime | None = None) -> str:
    """Over which span an availability figure counts: the whole window, or "since 30 Nov"
    (in the page's zone) for an item younger than the window."""
    now = now or datetime.now(UTC)
    if since is None or since <= now - timedelta(days=DAYS):
        return i18n.gettext("over the last %(days)d days") % {"days": DAYS}
    local, today = since.astimezone(ZoneInfo(zone)), now.astimezone(ZoneInfo(zone))
    day = i18n.short_day_text(local.date(), with_year=local.year != today.year)
    return i18n.gettext("since %(day)s") % {"day": day}


def _figures(item_id: str, figures: dict[str, ItemFigures] | None, since: datetime | None,
             zone: str) -> dict[str, Any]:
    found = (figures or {}).get(item_id)
    if found is None:
        return {"has_figures": False, "figures": None}
    return {"has_figures": True, "ratio": found.ratio, "figures": found,
            "span": span_words(since, zone)}


def _component(snap: PageSnapshot, c: Component, figures: dict[str, ItemFigures] | None
               ) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "description": c.description,
            "status": snap.status_of(c.id).value, "showcase": c.showcase,
            "onlyShowIfDegraded": c.only_show_if_degraded, "group": c.group_id,
            **_figures(c.id, figures, c.since, snap.page.time_zone)}


def _group(snap: PageSnapshot, g: ComponentGroup, members: list[dict[str, Any]],
           figures: dict[str, ItemFigures] | None) -> dict[str, Any]:
    since = min((c.since for c in snap.components if c.group_id == g.id), default=None)
    return {"id": g.id, "name": g.name, "description": g.description,
            "status": snap.group_status(g.id).value, "components": members,
            **_figures(g.id, figures, since, snap.page.time_zone)}


class Rows:
    """Rendered component rows by everything they show: a change re-renders only the rows
    whose status, names or figures moved, the others are reused as they are."""

    def __init__(self) -> None:
        self._rows: dict[tuple[Any, ...], Markup] = {}

    def render(self, c: dict[str, Any], zone: str) -> Markup:
        f: ItemFigures | None = c["figures"]
        key = (i18n.current(), c["id"], c["name"], c["description"], c["status"],
               c["showcase"], zone,
               percent(c.get("ratio")) if f else None, c.get("span"),
               (f.first, f.statuses, f.ratios, f.event_counts) if f else None)
        row = self._rows.get(key)
        if row is None:
            if len(self._rows) >= MAX_ROWS:
                self._rows.clear()
            macros = templates.env.get_template("_macros.html").module
            row = self._rows[key] = Markup(macros.component_row(c, zone))  # type: ignore[attr-defined]
        return row


def status_context(snap: PageSnapshot, figures: dict[str, ItemFigures] | None,
                   viewer: dict[str, Any] | None, rows: Rows) -> dict[str, Any]:
    """Everything status.html shows for this snapshot (`rows`: the app's rendered rows)."""
    page = page_dict(snap)
    components = [_component(snap, c, figures) for c in snap.components]

    def quiet(c: dict[str, Any]) -> bool:
        return bool(c["onlyShowIfDegraded"]) and c["status"] == "OPERATIONAL"

    hidden = [c["id"] for c in components if quiet(c)]
    shown = [c for c in components if not quiet(c)]
    groups = [_group(snap, g, [c for c in shown if c["group"] == g.id], figures)
              for g in snap.groups]
    page["groups"] = [g for g in groups if g["components"]]
    page["components"] = shown
    grouped = {g.id for g in snap.groups}
    zone = page["timeZone"]
    for c in shown:
        c["row"] = rows.render(c, zone)
    return {
        "viewer": viewer,
        "page": page,
        "ungrouped": [c for c in shown if c["group"] not in grouped],
        "hidden_ids": hidden,
        "figures_ok": figures is not None,
        **events_context(snap),
    }
