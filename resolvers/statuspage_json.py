"""Our page state in Atlassian Statuspage v2's shapes (the mapping: docs/statuspage-compat.md)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from models import Component, ComponentGroup
from models.enums import ComponentStatus, EventKind, EventStatus
from resolvers import domains
from resolvers.statuspage import EventRow, PageSnapshot, UpdateRow

COMPONENT_STATUS = {
    ComponentStatus.OPERATIONAL: "operational",
    ComponentStatus.DEGRADED: "degraded_performance",
    ComponentStatus.PARTIAL_OUTAGE: "partial_outage",
    ComponentStatus.FULL_OUTAGE: "major_outage",
    ComponentStatus.UNDER_MAINTENANCE: "under_maintenance",
}
# The page indicator and an incident's impact share Statuspage's scale.
INDICATOR = {
    ComponentStatus.OPERATIONAL: "none",
    ComponentStatus.DEGRADED: "minor",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.FULL_OUTAGE: "critical",
    ComponentStatus.UNDER_MAINTENANCE: "maintenance",
}
INDICATOR_DESCRIPTION = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}
EVENT_STATUS = {status: status.value.lower() for status in EventStatus}
OPEN_INCIDENT = (EventStatus.INVESTIGATING, EventStatus.IDENTIFIED, EventStatus.MONITORING)


class Formatter:
    """Builds the bodies of one page's snapshot; times in the page's zone, like Statuspage."""

    def __init__(self, snap: PageSnapshot, base_url: str) -> None:
        self.snap = snap
        self.page = snap.page
        self.zone = ZoneInfo(snap.page.time_zone)
        self.page_url = domains.page_root(snap.page.slug, base_url)
        self.by_id = {c.id: c for c in snap.components}
        self._components = self._component_list()
        self.component_objects = {obj["id"]: obj for obj in self._components}

    def time(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        return value.astimezone(self.zone).isoformat(timespec="milliseconds")

    # ---- page and status ---------------------------------------------------------------

    def page_object(self) -> dict[str, Any]:
        return {
            "id": self.page.id, "name": self.page.name, "url": self.page_url,
            "time_zone": self.page.time_zone, "updated_at": self.time(self.page.updated_at),
        }

    def status_object(self) -> dict[str, Any]:
        indicator = INDICATOR[self.snap.page_status()]
        return {"indicator": indicator, "description": INDICATOR_DESCRIPTION[indicator]}

    # ---- components ----------------------------------------------------------------------

    def _component(self, c: Component, position: int) -> dict[str, Any]:
        changed = self.snap.changed_at.get(c.id)
        updated = max(c.created_at, c.updated_at, *([changed] if changed else []))
        return {
            "id": c.id, "name": c.name, "status": COMPONENT_STATUS[self.snap.status_of(c.id)],
            "created_at": self.time(c.created_at), "updated_at": self.time(updated),
            "position": position, "description": c.description or None,
            "showcase": c.showcase, "start_date": c.since.astimezone(self.zone).date().isoformat(),
            "group_id": c.group_id, "page_id": self.page.id, "group": False,
            "only_show_if_degraded": c.only_show_if_degraded,
        }

    def _group(self, g: ComponentGroup, members: list[Component], position: int
               ) -> dict[str, Any]:
        times = [g.created_at, *(c.updated_at for c in members),
                 *(self.snap.changed_at[c.id] for c in members if c.id in self.snap.changed_at)]
        return {
            "id": g.id, "name": g.name, "status": COMPONENT_STATUS[self.snap.group_status(g.id)],
            "created_at": self.time(g.created_at), "updated_at": self.time(max(times)),
            "position": position, "description": g.description or None, "showcase": False,
            "start_date": None, "group_id": None, "page_id": self.page.id, "group": True,
            "only_show_if_degraded": False, "components": [c.id for c in members],
        }

    def _component_list(self) -> list[dict[str, Any]]:
        """Groups in order, each followed by its components; ungrouped components last."""
        result: list[dict[str, Any]] = []
        for g in self.snap.groups:
            members = [c for c in self.snap.components if c.group_id == g.id]
            result.append(self._group(g, members, len(result) + 1))
            result.extend(self._component(c, len(result) + 1) for c in members)
        grouped = {g.id for g in self.snap.groups}
        for c in self.snap.components:
            if c.group_id not in grouped:
                result.append(self._component(c, len(result) + 1))
        return result

    # ---- incidents and maintenances --------------------------------------------------------

    def _updates(self, event: EventRow) -> list[dict[str, Any]]:
        """Newest first; each names the components it changed, old and new (within the event)."""
        held: dict[str, ComponentStatus] = {}
        planned = [a.component_id for a in event.affected if a.planned]
        result = []
        for u in event.updates:
            changes = self._changes(event, u, held, planned)
            result.append({
                "id": u.id, "status": EVENT_STATUS[u.status], "body": u.message,
                "incident_id": event.id, "created_at": self.time(u.created_at),
                "updated_at": self.time(u.edited_at or u.created_at),
                "display_at": self.time(u.at),
                "affected_components": changes or None,
                "deliver_notifications": u.notify, "custom_tweet": None, "tweet_id": None,
            })
        result.reverse()
        return result

    def _changes(self, event: EventRow, u: UpdateRow, held: dict[str, ComponentStatus],
                 planned: list[str]) -> list[dict[str, Any]]:
        new: dict[str, ComponentStatus] = dict(u.impacts)
        if (event.kind == EventKind.MAINTENANCE and u.status == EventStatus.IN_PROGRESS
                and not u.impacts):
            # Entering IN_PROGRESS without impacts puts the planned set under maintenance.
            new = {cid: ComponentStatus.UNDER_MAINTENANCE for cid in planned
                   if held.get(cid) != ComponentStatus.UNDER_MAINTENANCE}
        if u.status.final:
            # A final update returns what the event still holds to operational.
            for cid, impact in held.items():
                if impact != ComponentStatus.OPERATIONAL:
                    new.setdefault(cid, ComponentStatus.OPERATIONAL)
        changes = []
        for cid, impact in new.items():
            old = held.get(cid, ComponentStatus.OPERATIONAL)
            held[cid] = impact
            component = self.by_id.get(cid)
            if component is None or old == impact:
                continue
            changes.append({"code": cid, "name": component.name,
                            "old_status": COMPONENT_STATUS[old],
                            "new_status": COMPONENT_STATUS[impact]})
        return changes

    def _impact(self, event: EventRow) -> str:
        if event.kind == EventKind.MAINTENANCE:
            return "maintenance"
        seen = [impact for u in event.updates for _, impact in u.impacts]
        seen += [a.impact for a in event.affected]
        return INDICATOR[ComponentStatus.worst(seen)]

    def event_object(self, event: EventRow) -> dict[str, Any]:
        monitoring = [u.at for u in event.updates if u.status == EventStatus.MONITORING]
        obj: dict[str, Any] = {
            "id": event.id, "name": event.title, "status": EVENT_STATUS[event.status],
            "created_at": self.time(event.created_at),
            "updated_at": self.time(event.last_change),
            "monitoring_at": self.time(monitoring[-1]) if monitoring else None,
            "resolved_at": self.time(event.ended_at) if event.status.final else None,
            "impact": self._impact(event),
            "shortlink": f"{self.page_url}/events/{event.id}",
            "started_at": self.time(event.started_at or event.created_at),
            "page_id": self.page.id,
            "incident_updates": self._updates(event),
            "components": [self.component_objects[a.component_id] for a in event.affected
                           if a.component_id in self.component_objects],
        }
        if event.kind == EventKind.MAINTENANCE:
            obj["scheduled_for"] = self.time(event.scheduled_start or event.started_at
                                             or event.created_at)
            obj["scheduled_until"] = self.time(event.scheduled_end or event.ended_at)
        return obj

    # ---- the bodies --------------------------------------------------------------------------

    def unresolved(self) -> list[dict[str, Any]]:
        return [self.event_object(e) for e in self.snap.incidents if e.status in OPEN_INCIDENT]

    def upcoming(self) -> list[dict[str, Any]]:
        soonest_first = sorted((e for e in self.snap.maintenances
                                if e.status == EventStatus.SCHEDULED),
                               key=lambda e: (e.display_at, e.created_at))
        return [self.event_object(e) for e in soonest_first]

    def active(self) -> list[dict[str, Any]]:
        return [self.event_object(e) for e in self.snap.maintenances
                if e.status == EventStatus.IN_PROGRESS]

    def body(self, name: str) -> dict[str, Any]:
        """The document of one endpoint, by its path under `api/v2/`."""
        page = {"page": self.page_object()}
        if name == "summary.json":
            return {**page, "components": self._components, "incidents": self.unresolved(),
                    "scheduled_maintenances": [*self.active(), *self.upcoming()],
                    "status": self.status_object()}
        if name == "status.json":
            return {**page, "status": self.status_object()}
        if name == "components.json":
            return {**page, "components": self._components}
        if name == "incidents.json":
            return {**page, "incidents": [self.event_object(e)
                                          for e in self.snap.incidents[:50]]}
        if name == "incidents/unresolved.json":
            return {**page, "incidents": self.unresolved()}
        if name == "scheduled-maintenances.json":
            return {**page, "scheduled_maintenances": [self.event_object(e)
                                                       for e in self.snap.maintenances[:50]]}
        if name == "scheduled-maintenances/upcoming.json":
            return {**page, "scheduled_maintenances": self.upcoming()}
        if name == "scheduled-maintenances/active.json":
            return {**page, "scheduled_maintenances": self.active()}
        raise KeyError(name)


ENDPOINTS = (
    "summary.json", "status.json", "components.json", "incidents.json",
    "incidents/unresolved.json", "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json",
)


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
