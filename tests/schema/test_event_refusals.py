"""Every refusal of the event mutations: the typed error, its field, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from models import RoleAssignment, User
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventStatus, Role
from resolvers import component, maintenance, retrospective
from resolvers import event as events
from resolvers.account import create_user, issue_token
from resolvers.auth import Actor
from tests.helpers.events import make_page, snapshot

NAMES = {
    "createIncident": "CreateIncidentInput",
    "postEventUpdate": "PostEventUpdateInput",
    "scheduleMaintenance": "ScheduleMaintenanceInput",
    "createRetrospectiveEvent": "CreateRetrospectiveEventInput",
    "deleteEvent": "DeleteEventInput",
    "editEventUpdate": "EditEventUpdateInput",
    "deleteEventUpdate": "DeleteEventUpdateInput",
    "updateEvent": "UpdateEventInput",
    "updateMaintenance": "UpdateMaintenanceInput",
    "cancelMaintenance": "CancelMaintenanceInput",
    "createTemplate": "CreateTemplateInput",
    "updateTemplate": "UpdateTemplateInput",
    "deleteTemplate": "DeleteTemplateInput",
}


def document(mutation: str) -> str:
    return (f"mutation($input: {NAMES[mutation]}!) {{ {mutation}(input: $input) "
            "{ __typename ... on Error { code message field } } }")


def iso(delta: timedelta) -> str:
    return (utcnow() + delta).isoformat()


H = timedelta(hours=1)
W = dict[str, Any]


async def build_world(admin: User) -> W:
    """One of everything an event mutation can be refused about."""
    actor, page, ids = await make_page(admin)
    _, other, other_ids = await make_page(admin, slug="other")
    fresh = await component.create_component(actor=actor, page_id=page.id, name="Fresh")
    S = ComponentStatus
    open_ = await events.create_incident(actor=actor, page_id=page.id, title="Open",
                                         message="m", components=[(ids["API"], S.DEGRADED)])
    closed = await events.create_incident(actor=actor, page_id=page.id, title="Closed",
                                          message="m")
    await events.post_event_update(actor=actor, event_id=closed.id,
                                   status=EventStatus.RESOLVED, message="done")
    start = utcnow() + 2 * H
    planned = await maintenance.schedule_maintenance(
        actor=actor, page_id=page.id, title="Planned", message="m", scheduled_start=start,
        scheduled_end=start + H, component_ids=[ids["DB"]])
    running = await maintenance.schedule_maintenance(
        actor=actor, page_id=page.id, title="Running", message="m", scheduled_start=start,
        scheduled_end=start + H, component_ids=[ids["DB"]])
    await events.post_event_update(actor=actor, event_id=running.id,
                                   status=EventStatus.IN_PROGRESS, message="go")
    retro = await retrospective.create_retrospective_event(
        actor=actor, page_id=page.id, kind=EventKind.INCIDENT, title="Past",
        started_at=utcnow() - 5 * H, ended_at=utcnow() - 2 * H,
        components=[(ids["Web"], S.PARTIAL_OUTAGE)],
        updates=[retrospective.RetroUpdate(at=utcnow() - 5 * H, status=EventStatus.IDENTIFIED,
                                           message="a"),
                 retrospective.RetroUpdate(at=utcnow() - 4 * H, status=EventStatus.MONITORING,
                                           message="b")])
    from models import EventUpdate

    retro_updates = [u.id for u in await EventUpdate.filter(event_id=retro.id).order_by("at")]
    open_first = (await EventUpdate.filter(event_id=open_.id).first())
    assert open_first is not None
    from resolvers.template import create_template

    template = await create_template(actor=actor, page_id=page.id, kind=EventKind.INCIDENT,
                                     name="Outage", title="Outage", message="m")
    del other_ids
    return {"page": page.id, "other": other.id, "ids": ids, "fresh": fresh.id,
            "open": open_.id, "closed": closed.id, "planned": planned.id,
            "running": running.id, "retro": retro.id, "retro_updates": retro_updates,
            "open_first": open_first.id, "template": template.id, "actor": actor}


def imp(cid: str, impact: str) -> dict[str, str]:
    return {"componentId": cid, "impact": impact}


def retro_input(w: W, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pageId": w["page"], "kind": "INCIDENT", "title": "Past", "startedAt": iso(-4 * H),
        "endedAt": iso(-1 * H), "components": [imp(w["ids"]["API"], "FULL_OUTAGE")],
        "updates": [{"at": iso(-3 * H), "status": "INVESTIGATING", "message": "a"},
                    {"at": iso(-2 * H), "status": "MONITORING", "message": "b"}]}
    data.update(over)
    return data


Case = tuple[str, str, Callable[[W], dict[str, Any]], str, str | None]
CASES: list[Case] = [
    ("incident at RESOLVED", "createIncident",
     lambda w: {"pageId": w["page"], "title": "t", "message": "m", "status": "RESOLVED"},
     "INVALID", "status"),
    ("incident with a maintenance status", "createIncident",
     lambda w: {"pageId": w["page"], "title": "t", "message": "m", "status": "SCHEDULED"},
     "INVALID", "status"),
    ("incident with a maintenance impact", "createIncident",
     lambda w: {"pageId": w["page"], "title": "t", "message": "m",
                "components": [imp(w["ids"]["API"], "UNDER_MAINTENANCE")]},
     "INVALID", "components"),
    ("component of another page", "createIncident",
     lambda w: {"pageId": w["page"], "title": "t", "message": "m",
                "components": [imp(w["ids"]["API"], "DEGRADED"), imp("x" * 20, "DEGRADED")]},
     "INVALID", "components"),
    ("same component twice", "createIncident",
     lambda w: {"pageId": w["page"], "title": "t", "message": "m",
                "components": [imp(w["ids"]["API"], "DEGRADED"),
                               imp(w["ids"]["API"], "FULL_OUTAGE")]},
     "INVALID", "components"),
    ("startedAt in the future", "createIncident",
     lambda w: {"pageId": w["page"], "title": "t", "message": "m", "startedAt": iso(H)},
     "INVALID", "startedAt"),
    ("impact before since", "createIncident",
     lambda w: {"pageId": w["page"], "title": "t", "message": "m", "startedAt": iso(-H),
                "components": [imp(w["fresh"], "DEGRADED")]},
     "BEFORE_SINCE", "components"),
    ("no title", "createIncident", lambda w: {"pageId": w["page"], "message": "m"},
     "INVALID", "title"),
    ("no message", "createIncident", lambda w: {"pageId": w["page"], "title": "t"},
     "INVALID", "message"),
    ("unknown page", "createIncident",
     lambda w: {"pageId": "nope", "title": "t", "message": "m"}, "NOT_FOUND", "pageId"),
    ("template of another kind", "scheduleMaintenance",
     lambda w: {"pageId": w["page"], "templateId": w["template"], "message": "m",
                "scheduledStart": iso(H), "scheduledEnd": iso(2 * H)},
     "INVALID", "templateId"),
    ("maintenance status on an incident", "postEventUpdate",
     lambda w: {"eventId": w["open"], "status": "IN_PROGRESS", "message": "m"},
     "INVALID", "status"),
    ("final update with an outage", "postEventUpdate",
     lambda w: {"eventId": w["open"], "status": "RESOLVED", "message": "m",
                "components": [imp(w["ids"]["API"], "DEGRADED")]},
     "INVALID", "components"),
    ("impacts after resolution", "postEventUpdate",
     lambda w: {"eventId": w["closed"], "status": "RESOLVED", "message": "m",
                "components": [imp(w["ids"]["API"], "OPERATIONAL")]},
     "INVALID", "components"),
    ("empty message", "postEventUpdate",
     lambda w: {"eventId": w["open"], "status": "MONITORING", "message": "  "},
     "INVALID", "message"),
    ("posting to a retrospective event", "postEventUpdate",
     lambda w: {"eventId": w["retro"], "status": "RESOLVED", "message": "m"},
     "INVALID", "eventId"),
    ("unknown event", "postEventUpdate",
     lambda w: {"eventId": "nope", "status": "MONITORING", "message": "m"},
     "NOT_FOUND", "eventId"),
    ("maintenance backwards", "postEventUpdate",
     lambda w: {"eventId": w["running"], "status": "SCHEDULED", "message": "m"},
     "INVALID", "status"),
    ("incident status on maintenance", "postEventUpdate",
     lambda w: {"eventId": w["running"], "status": "MONITORING", "message": "m"},
     "INVALID", "status"),
    ("incident impact on maintenance", "postEventUpdate",
     lambda w: {"eventId": w["running"], "status": "IN_PROGRESS", "message": "m",
                "components": [imp(w["ids"]["DB"], "FULL_OUTAGE")]},
     "INVALID", "components"),
    ("completing before the start", "postEventUpdate",
     lambda w: {"eventId": w["planned"], "status": "COMPLETED", "message": "m"},
     "INVALID", "status"),
    ("scheduled start in the past", "scheduleMaintenance",
     lambda w: {"pageId": w["page"], "title": "t", "message": "m",
                "scheduledStart": iso(-H), "scheduledEnd": iso(H)},
     "INVALID", "scheduledStart"),
    ("end before start", "scheduleMaintenance",
     lambda w: {"pageId": w["page"], "title": "t", "message": "m",
                "scheduledStart": iso(2 * H), "scheduledEnd": iso(H)},
     "INVALID", "scheduledEnd"),
    ("maintenance of another page's component", "scheduleMaintenance",
     lambda w: {"pageId": w["other"], "title": "t", "message": "m",
                "scheduledStart": iso(H), "scheduledEnd": iso(2 * H),
                "componentIds": [w["ids"]["API"]]},
     "INVALID", "componentIds"),
    ("cancel after the start", "cancelMaintenance", lambda w: {"eventId": w["running"]},
     "INVALID", "eventId"),
    ("reschedule after the start", "updateMaintenance",
     lambda w: {"eventId": w["running"], "scheduledStart": iso(3 * H)},
     "INVALID", "scheduledStart"),
    ("extend into the past", "updateMaintenance",
     lambda w: {"eventId": w["running"], "scheduledEnd": iso(-H)}, "INVALID", "scheduledEnd"),
    ("an explicit null start", "updateMaintenance",
     lambda w: {"eventId": w["planned"], "scheduledStart": None}, "INVALID", "scheduledStart"),
    ("an explicit null autoComplete", "updateMaintenance",
     lambda w: {"eventId": w["planned"], "autoComplete": None}, "INVALID", "autoComplete"),
    ("an explicit null message", "editEventUpdate",
     lambda w: {"updateId": w["open_first"], "message": None}, "INVALID", "message"),
    ("an explicit null time", "editEventUpdate",
     lambda w: {"updateId": w["retro_updates"][0], "at": None}, "INVALID", "at"),
    ("retrospective in the future", "createRetrospectiveEvent",
     lambda w: retro_input(w, endedAt=iso(H)), "INVALID", "endedAt"),
    ("retrospective ending before it starts", "createRetrospectiveEvent",
     lambda w: retro_input(w, endedAt=iso(-5 * H)), "INVALID", "endedAt"),
    ("retrospective out of order", "createRetrospectiveEvent",
     lambda w: retro_input(w, updates=[
         {"at": iso(-2 * H), "status": "INVESTIGATING", "message": "a"},
         {"at": iso(-3 * H), "status": "MONITORING", "message": "b"}]), "INVALID", "updates"),
    ("retrospective update outside the window", "createRetrospectiveEvent",
     lambda w: retro_input(w, updates=[
         {"at": iso(-5 * H), "status": "INVESTIGATING", "message": "a"}]),
     "INVALID", "updates"),
    ("retrospective without updates", "createRetrospectiveEvent",
     lambda w: retro_input(w, updates=[]), "INVALID", "updates"),
    ("retrospective SCHEDULED", "createRetrospectiveEvent",
     lambda w: retro_input(w, kind="MAINTENANCE", components=[], updates=[
         {"at": iso(-3 * H), "status": "SCHEDULED", "message": "a"}]), "INVALID", "updates"),
    ("retrospective before since", "createRetrospectiveEvent",
     lambda w: retro_input(w, components=[imp(w["fresh"], "DEGRADED")]),
     "BEFORE_SINCE", "components"),
    ("moving a live update", "editEventUpdate",
     lambda w: {"updateId": w["open_first"], "at": iso(-H)}, "INVALID", "at"),
    ("moving a retrospective update out of order", "editEventUpdate",
     lambda w: {"updateId": w["retro_updates"][1], "at": iso(-6 * H)}, "INVALID", "at"),
    ("deleting the opening update", "deleteEventUpdate",
     lambda w: {"updateId": w["open_first"]}, "INVALID", "id"),
    ("deleting a retrospective's final update", "deleteEventUpdate",
     lambda w: {"updateId": w["retro_updates"][-1]}, "INVALID", "id"),
    ("empty title", "updateEvent", lambda w: {"eventId": w["open"], "title": ""},
     "INVALID", "title"),
    ("template with a final status", "createTemplate",
     lambda w: {"pageId": w["page"], "kind": "INCIDENT", "name": "x", "status": "RESOLVED"},
     "INVALID", "status"),
    ("template name taken", "createTemplate",
     lambda w: {"pageId": w["page"], "kind": "INCIDENT", "name": "Outage"},
     "CONFLICT", "name"),
    ("unknown event to delete", "deleteEvent", lambda w: {"eventId": "nope"},
     "NOT_FOUND", "eventId"),
]


@pytest.mark.parametrize(("mutation", "make", "code", "field"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_refusal_writes_nothing(gql: Any, admin: User, mutation: str,
                                      make: Callable[[W], dict[str, Any]], code: str,
                                      field: str | None) -> None:
    world = await build_world(admin)
    before = await snapshot()
    body = await gql(document(mutation), {"input": make(world)})
    result = body["data"][mutation]
    assert (result["code"], result["field"]) == (code, field), result
    assert result["message"]
    assert await snapshot() == before


async def test_rights_are_checked_per_page_and_refusals_write_nothing(
    gql: Any, admin: User
) -> None:
    world = await build_world(admin)
    doer = await create_user(email="ops@example.com", password="correct horse")
    await RoleAssignment.create(user_id=doer.id, page_id=world["other"], scope=world["other"],
                                role=Role.EVENT_MANAGEMENT)
    elsewhere, _ = await issue_token(user=doer)
    viewer = await create_user(email="viewer@example.com", password="correct horse")
    nobody, _ = await issue_token(user=viewer)
    incident = {"pageId": world["page"], "title": "t", "message": "m"}
    update = {"eventId": world["open"], "status": "MONITORING", "message": "m"}
    before = await snapshot()
    for token, code in ((elsewhere, "FORBIDDEN"), (nobody, "FORBIDDEN"),
                        ("", "UNAUTHENTICATED")):
        for mutation, data in (("createIncident", incident), ("postEventUpdate", update),
                               ("deleteEvent", {"eventId": world["open"]})):
            body = await gql(document(mutation), {"input": data}, token=token)
            assert body["data"][mutation]["code"] == code, (mutation, code)
    templates = await gql("query($p: ID!) { templates(pageId: $p) { id } }",
                          {"p": world["page"]}, token=elsewhere, expect_errors=True)
    assert templates["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await snapshot() == before
    # The page-scoped manager may publish on their own page.
    own = await gql(document("createIncident"),
                    {"input": {"pageId": world["other"], "title": "t", "message": "m"}},
                    token=elsewhere)
    assert own["data"]["createIncident"]["__typename"] == "CreateIncidentPayload"
    assert isinstance(world["actor"], Actor)
