"""A page worth reading, built through the public GraphQL mutations (shared by the tests of
the Statuspage JSON, the feeds and the badges): groups, an active incident with several updates,
a resolved one, an upcoming and an in-progress maintenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

CREATE_PAGE = """
mutation($input: CreatePageInput!) {
  createPage(input: $input) {
    __typename ... on CreatePagePayload { page { id slug } } ... on Error { code message }
  }
}"""
CREATE_GROUP = """
mutation($input: CreateComponentGroupInput!) {
  createComponentGroup(input: $input) {
    __typename ... on CreateComponentGroupPayload { group { id } } ... on Error { code message }
  }
}"""
CREATE_COMPONENT = """
mutation($input: CreateComponentInput!) {
  createComponent(input: $input) {
    __typename ... on CreateComponentPayload { component { id } } ... on Error { code message }
  }
}"""
CREATE_INCIDENT = """
mutation($input: CreateIncidentInput!) {
  createIncident(input: $input) {
    __typename ... on CreateIncidentPayload { event { id } } ... on Error { code message }
  }
}"""
POST_UPDATE = """
mutation($input: PostEventUpdateInput!) {
  postEventUpdate(input: $input) {
    __typename ... on PostEventUpdatePayload { event { id status } }
    ... on Error { code message field }
  }
}"""
SCHEDULE = """
mutation($input: ScheduleMaintenanceInput!) {
  scheduleMaintenance(input: $input) {
    __typename ... on ScheduleMaintenancePayload { event { id } } ... on Error { code message }
  }
}"""


@dataclass
class World:
    page_id: str
    groups: dict[str, str] = field(default_factory=dict)  # name -> id
    components: dict[str, str] = field(default_factory=dict)  # name -> id
    events: dict[str, str] = field(default_factory=dict)  # role -> id
    starts: dict[str, datetime] = field(default_factory=dict)  # maintenance -> start


async def _ok(gql: Any, document: str, data: dict[str, Any], root: str) -> dict[str, Any]:
    result = (await gql(document, {"input": data}))["data"][root]
    assert result["__typename"].endswith("Payload"), result
    return result  # type: ignore[no-any-return]


async def create_page(gql: Any, slug: str, name: str, **extra: Any) -> str:
    result = await _ok(gql, CREATE_PAGE, {"slug": slug, "name": name, **extra}, "createPage")
    return str(result["page"]["id"])


async def add_component(gql: Any, page_id: str, name: str, group_id: str | None = None) -> str:
    data: dict[str, Any] = {"pageId": page_id, "name": name}
    if group_id:
        data["groupId"] = group_id
    result = await _ok(gql, CREATE_COMPONENT, data, "createComponent")
    return str(result["component"]["id"])


async def post_update(gql: Any, event_id: str, status: str, message: str,
                      components: dict[str, str] | None = None) -> None:
    data: dict[str, Any] = {"eventId": event_id, "status": status, "message": message}
    if components:
        data["components"] = [{"componentId": c, "impact": i} for c, i in components.items()]
    await _ok(gql, POST_UPDATE, data, "postEventUpdate")


async def build_world(gql: Any, slug: str = "acme", **page: Any) -> World:
    """Core (API, Web) and Data (Database) groups and an ungrouped Docs; four events."""
    world = World(await create_page(gql, slug, "Acme Cloud", timeZone="Europe/Berlin",
                                    **page))
    for group, members in (("Core", ("API", "Web")), ("Data", ("Database",))):
        result = await _ok(gql, CREATE_GROUP, {"pageId": world.page_id, "name": group},
                           "createComponentGroup")
        world.groups[group] = result["group"]["id"]
        for name in members:
            world.components[name] = await add_component(gql, world.page_id, name,
                                                         world.groups[group])
    world.components["Docs"] = await add_component(gql, world.page_id, "Docs")
    c = world.components

    # A resolved incident: Database degraded, then resolved.
    resolved = await _ok(gql, CREATE_INCIDENT, {
        "pageId": world.page_id, "title": "Slow queries", "message": "Queries are slow.",
        "components": [{"componentId": c["Database"], "impact": "DEGRADED"}],
    }, "createIncident")
    world.events["resolved"] = resolved["event"]["id"]
    await post_update(gql, world.events["resolved"], "RESOLVED", "**Fixed**: an index was added.")

    # The active incident, three updates: API partial → full (+ Web degraded) → API partial.
    active = await _ok(gql, CREATE_INCIDENT, {
        "pageId": world.page_id, "title": "API errors", "message": "We are investigating.",
        "components": [{"componentId": c["API"], "impact": "PARTIAL_OUTAGE"}],
    }, "createIncident")
    world.events["active"] = active["event"]["id"]
    await post_update(gql, world.events["active"], "IDENTIFIED", "A bad deploy.",
                      {c["API"]: "FULL_OUTAGE", c["Web"]: "DEGRADED"})
    await post_update(gql, world.events["active"], "MONITORING", "Rolled back; watching.",
                      {c["API"]: "PARTIAL_OUTAGE"})

    now = datetime.now(UTC).replace(microsecond=0)
    for role, start, planned in (("upcoming", now + timedelta(days=2), "Docs"),
                                 ("in_progress", now + timedelta(hours=1), "Database")):
        result = await _ok(gql, SCHEDULE, {
            "pageId": world.page_id, "title": f"{role.replace('_', ' ').title()} upgrade",
            "message": "We will upgrade the servers.", "scheduledStart": start.isoformat(),
            "scheduledEnd": (start + timedelta(hours=2)).isoformat(),
            "componentIds": [c[planned]],
        }, "scheduleMaintenance")
        world.events[role] = result["event"]["id"]
        world.starts[role] = start
    await post_update(gql, world.events["in_progress"], "IN_PROGRESS", "Started early.")
    return world
