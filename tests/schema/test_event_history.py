"""Publishing from a template, retrospective events, and editing history — over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from models import AuditEntry, EventUpdate, ImpactSpan, NotificationJob, User
from models.base import utcnow
from models.enums import ComponentStatus
from resolvers.status import statuses_at
from tests.helpers.events import (
    CREATE_INCIDENT,
    EVENT,
    POST_UPDATE,
    RETROSPECTIVE,
    SCHEDULE,
    make_page,
    statuses,
)

CREATE_TEMPLATE = """
mutation($input: CreateTemplateInput!) {
  createTemplate(input: $input) {
    __typename
    ... on CreateTemplatePayload { template { id name kind title message status
                                              components { impact component { name } } } }
    ... on Error { code message field }
  }
}"""
UPDATE_TEMPLATE = """
mutation($input: UpdateTemplateInput!) {
  updateTemplate(input: $input) {
    __typename
    ... on UpdateTemplatePayload { template { id name title } }
    ... on Error { code message field }
  }
}"""
DELETE_TEMPLATE = """
mutation($input: DeleteTemplateInput!) {
  deleteTemplate(input: $input) {
    __typename ... on DeleteTemplatePayload { deletedTemplateId }
    ... on Error { code }
  }
}"""
TEMPLATES = """
query($pageId: ID!, $kind: EventKind) { templates(pageId: $pageId, kind: $kind) { name kind } }
"""
EDIT_UPDATE = """
mutation($input: EditEventUpdateInput!) {
  editEventUpdate(input: $input) {
    __typename
    ... on EditEventUpdatePayload { event { status } update { id at message components {
      impact } } }
    ... on Error { code message field }
  }
}"""
DELETE_UPDATE = """
mutation($input: DeleteEventUpdateInput!) {
  deleteEventUpdate(input: $input) {
    __typename
    ... on DeleteEventUpdatePayload { deletedUpdateId event { status updates { id } } }
    ... on Error { code message field }
  }
}"""
UPDATE_EVENT = """
mutation($input: UpdateEventInput!) {
  updateEvent(input: $input) {
    __typename ... on UpdateEventPayload { event { title } } ... on Error { code }
  }
}"""


def imp(cid: str, impact: str) -> dict[str, str]:
    return {"componentId": cid, "impact": impact}


async def test_publishing_from_a_template_with_overrides(gql: Any, admin: User) -> None:
    _, page, ids = await make_page(admin)
    made = (await gql(CREATE_TEMPLATE, {"input": {
        "pageId": page.id, "kind": "INCIDENT", "name": "DB outage",
        "title": "Database unavailable", "message": "We are looking into it.",
        "status": "IDENTIFIED",
        "components": [imp(ids["DB"], "FULL_OUTAGE"), imp(ids["API"], "DEGRADED")]}}))
    template = made["data"]["createTemplate"]["template"]
    assert [(c["component"]["name"], c["impact"]) for c in template["components"]] == [
        ("DB", "FULL_OUTAGE"), ("API", "DEGRADED")]

    # Template values first, explicit input over them (message and one impact).
    body = await gql(CREATE_INCIDENT, {"input": {
        "pageId": page.id, "templateId": template["id"], "message": "Failover running.",
        "components": [imp(ids["API"], "PARTIAL_OUTAGE")]}})
    event = body["data"]["createIncident"]["event"]
    assert event["title"] == "Database unavailable" and event["status"] == "IDENTIFIED"
    assert event["updates"][0]["message"] == "Failover running."
    assert await statuses(gql) == {"API": "PARTIAL_OUTAGE", "Web": "OPERATIONAL",
                                   "DB": "FULL_OUTAGE"}

    maint = (await gql(CREATE_TEMPLATE, {"input": {
        "pageId": page.id, "kind": "MAINTENANCE", "name": "Web deploy",
        "title": "Web deploy", "message": "Short interruption.",
        "components": [imp(ids["Web"], "UNDER_MAINTENANCE")]}}))["data"]["createTemplate"]
    start = utcnow() + timedelta(days=1)
    body = await gql(SCHEDULE, {"input": {
        "pageId": page.id, "templateId": maint["template"]["id"],
        "scheduledStart": start.isoformat(),
        "scheduledEnd": (start + timedelta(hours=1)).isoformat()}})
    scheduled = body["data"]["scheduleMaintenance"]["event"]
    assert scheduled["title"] == "Web deploy" and scheduled["status"] == "SCHEDULED"
    assert [(c["component"]["name"], c["impact"]) for c in scheduled["components"]] == [
        ("Web", "UNDER_MAINTENANCE")]

    listed = (await gql(TEMPLATES, {"pageId": page.id}))["data"]["templates"]
    assert [(t["kind"], t["name"]) for t in listed] == [
        ("INCIDENT", "DB outage"), ("MAINTENANCE", "Web deploy")]
    assert [t["name"] for t in (await gql(TEMPLATES, {"pageId": page.id,
                                                     "kind": "MAINTENANCE"}))[
        "data"]["templates"]] == ["Web deploy"]
    renamed = await gql(UPDATE_TEMPLATE, {"input": {"id": template["id"], "name": "DB down"}})
    assert renamed["data"]["updateTemplate"]["template"]["name"] == "DB down"
    gone = await gql(DELETE_TEMPLATE, {"input": {"id": template["id"]}})
    assert gone["data"]["deleteTemplate"]["deletedTemplateId"] == template["id"]
    assert len((await gql(TEMPLATES, {"pageId": page.id}))["data"]["templates"]) == 1
    assert await AuditEntry.filter(action__startswith="template.").count() == 4


async def test_retrospective_event_with_three_updates(gql: Any, admin: User) -> None:
    _, page, ids = await make_page(admin)
    t0 = utcnow().replace(microsecond=0) - timedelta(days=2)

    def at(hours: float) -> str:
        return (t0 + timedelta(hours=hours)).isoformat()

    body = await gql(RETROSPECTIVE, {"input": {
        "pageId": page.id, "kind": "INCIDENT", "title": "Storage outage last week",
        "startedAt": at(0), "endedAt": at(4),
        "components": [imp(ids["DB"], "FULL_OUTAGE")],
        "updates": [
            {"at": at(0.5), "status": "INVESTIGATING", "message": "Writes failing."},
            {"at": at(1), "status": "IDENTIFIED", "message": "Disk full.",
             "components": [imp(ids["DB"], "PARTIAL_OUTAGE"), imp(ids["API"], "DEGRADED")]},
            {"at": at(3), "status": "MONITORING", "message": "Space freed.",
             "components": [imp(ids["DB"], "OPERATIONAL")]},
        ]}})
    event = body["data"]["createRetrospectiveEvent"]["event"]
    assert event["retrospective"] is True and event["status"] == "RESOLVED"
    assert (event["startedAt"], event["endedAt"]) == (at(0), at(4))
    assert [(u["status"], u["at"], u["notify"]) for u in event["updates"]] == [
        ("INVESTIGATING", at(0.5), False), ("IDENTIFIED", at(1), False),
        ("MONITORING", at(3), False), ("RESOLVED", at(4), False)]
    assert await NotificationJob.all().count() == 0
    assert await statuses(gql) == {"API": "OPERATIONAL", "Web": "OPERATIONAL",
                                   "DB": "OPERATIONAL"}
    spans = sorted((s.component_id, s.status.value, s.start, s.end)
                   for s in await ImpactSpan.all())
    t = lambda h: t0 + timedelta(hours=h)  # noqa: E731
    assert spans == sorted([
        (ids["DB"], "FULL_OUTAGE", t(0), t(1)), (ids["DB"], "PARTIAL_OUTAGE", t(1), t(3)),
        (ids["API"], "DEGRADED", t(1), t(4))])

    # Editing history re-derives the figures: move the diagnosis later, change its impacts.
    middle = event["updates"][1]["id"]
    edited = await gql(EDIT_UPDATE, {"input": {
        "updateId": middle, "at": at(2), "message": "Disk full (root cause).",
        "components": [imp(ids["DB"], "DEGRADED")]}})
    result = edited["data"]["editEventUpdate"]
    assert result["update"]["at"] == at(2)
    assert result["update"]["message"] == "Disk full (root cause)."
    assert (await statuses_at([page.id], t(1.5))) == {ids["DB"]: ComponentStatus.FULL_OUTAGE}
    assert (await statuses_at([page.id], t(2.5))) == {ids["DB"]: ComponentStatus.DEGRADED}
    assert await ImpactSpan.filter(component_id=ids["API"]).count() == 0

    # Deleting an update also re-derives them; the audit log keeps what was deleted.
    removed = await gql(DELETE_UPDATE, {"input": {"updateId": event["updates"][2]["id"]}})
    assert removed["data"]["deleteEventUpdate"]["deletedUpdateId"] == event["updates"][2]["id"]
    assert (await statuses_at([page.id], t(3.5))) == {ids["DB"]: ComponentStatus.DEGRADED}
    assert await AuditEntry.filter(action="update.delete").count() == 1


async def test_message_edits_do_not_notify_again_and_titles_change(
    gql: Any, admin: User
) -> None:
    _, page, _ = await make_page(admin)
    body = await gql(CREATE_INCIDENT, {"input": {"pageId": page.id, "title": "Slow",
                                                 "message": "Lookng into it."}})
    event = body["data"]["createIncident"]["event"]
    assert await NotificationJob.all().count() == 1
    edited = await gql(EDIT_UPDATE, {"input": {"updateId": event["updates"][0]["id"],
                                               "message": "Looking into it."}})
    assert edited["data"]["editEventUpdate"]["update"]["message"] == "Looking into it."
    assert await NotificationJob.all().count() == 1
    update = await EventUpdate.get(id=event["updates"][0]["id"])
    assert update.edited_at is not None
    retitled = await gql(UPDATE_EVENT, {"input": {"eventId": event["id"],
                                                  "title": "Slow API"}})
    assert retitled["data"]["updateEvent"]["event"]["title"] == "Slow API"
    read = (await gql(EVENT, {"id": event["id"]}))["data"]["event"]
    assert read["title"] == "Slow API"


async def test_reopen_after_resolution_restates_impacts(gql: Any, admin: User) -> None:
    _, page, ids = await make_page(admin)
    body = await gql(CREATE_INCIDENT, {"input": {
        "pageId": page.id, "title": "Flaky", "message": "m",
        "components": [imp(ids["API"], "DEGRADED")]}})
    event_id = body["data"]["createIncident"]["event"]["id"]
    for status, components in (("RESOLVED", []), ("RESOLVED", None),
                               ("INVESTIGATING", [imp(ids["Web"], "FULL_OUTAGE")])):
        result = (await gql(POST_UPDATE, {"input": {
            "eventId": event_id, "status": status, "message": "m",
            "components": components}}))["data"]["postEventUpdate"]
        assert result["__typename"] == "PostEventUpdatePayload", result
    assert await statuses(gql) == {"API": "OPERATIONAL", "Web": "FULL_OUTAGE",
                                   "DB": "OPERATIONAL"}
    read = (await gql(EVENT, {"id": event_id}))["data"]["event"]
    assert read["status"] == "INVESTIGATING" and read["endedAt"] is None
    # OPERATIONAL components stay among the affected ones.
    assert {c["component"]["name"]: c["impact"] for c in read["components"]} == {
        "API": "OPERATIONAL", "Web": "FULL_OUTAGE"}
    assert isinstance(datetime.fromisoformat(read["startedAt"]), datetime)
