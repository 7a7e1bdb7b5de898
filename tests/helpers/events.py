"""Shared set-up for the event tests: a page with components, GraphQL documents, snapshots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models import (
    AuditEntry,
    Event,
    EventComponent,
    EventUpdate,
    ImpactSpan,
    NotificationJob,
    StatusPage,
    Template,
    UpdateImpact,
    User,
)
from models.base import utcnow
from resolvers import component
from resolvers import page as pages
from resolvers.auth import Actor

EVENT_FIELDS = """
  id kind status title startedAt endedAt scheduledStart scheduledEnd retrospective cancelled
  components { impact component { id name } }
  updates { id at status message notify components { impact component { id name } } }
"""
CREATE_INCIDENT = """
mutation($input: CreateIncidentInput!) {
  createIncident(input: $input) {
    __typename
    ... on CreateIncidentPayload { event { FIELDS } }
    ... on Error { code message field }
  }
}""".replace("FIELDS", EVENT_FIELDS)
POST_UPDATE = """
mutation($input: PostEventUpdateInput!) {
  postEventUpdate(input: $input) {
    __typename
    ... on PostEventUpdatePayload { event { FIELDS } update { id status components { impact } } }
    ... on Error { code message field }
  }
}""".replace("FIELDS", EVENT_FIELDS)
SCHEDULE = """
mutation($input: ScheduleMaintenanceInput!) {
  scheduleMaintenance(input: $input) {
    __typename
    ... on ScheduleMaintenancePayload { event { FIELDS } }
    ... on Error { code message field }
  }
}""".replace("FIELDS", EVENT_FIELDS)
RETROSPECTIVE = """
mutation($input: CreateRetrospectiveEventInput!) {
  createRetrospectiveEvent(input: $input) {
    __typename
    ... on CreateRetrospectiveEventPayload { event { FIELDS } }
    ... on Error { code message field }
  }
}""".replace("FIELDS", EVENT_FIELDS)
DELETE_EVENT = """
mutation($input: DeleteEventInput!) {
  deleteEvent(input: $input) {
    __typename
    ... on DeleteEventPayload { deletedEventId }
    ... on Error { code message field }
  }
}"""
EVENT = "query($id: ID!) { event(id: $id) { FIELDS } }".replace("FIELDS", EVENT_FIELDS)
PAGE_STATUS = """
query($slug: String!) {
  page(slug: $slug) { status components { id name status } }
}"""


async def make_page(user: User, *, names: tuple[str, ...] = ("API", "Web", "DB"),
                    slug: str = "acme", days: int = 30) -> tuple[Actor, StatusPage,
                                                                  dict[str, str]]:
    """A page with components counted from `days` ago; returns (actor, page, name -> id)."""
    actor = Actor(user=user, via="token")
    page = await pages.create_page(actor=actor, slug=slug, name=slug.title())
    since = utcnow() - timedelta(days=days)
    ids = {}
    for name in names:
        row = await component.create_component(actor=actor, page_id=page.id, name=name,
                                               since=since)
        ids[name] = row.id
    return actor, page, ids


async def statuses(gql: Any, slug: str = "acme") -> dict[str, str]:
    """Component name -> status as a viewer reads it over GraphQL."""
    body = await gql(PAGE_STATUS, {"slug": slug}, token="")
    return {c["name"]: c["status"] for c in body["data"]["page"]["components"]}


async def snapshot() -> dict[str, Any]:
    """Everything an event write could touch, to prove a refusal wrote nothing."""
    pages_ = await StatusPage.all().order_by("id").values_list("id", "sequence")
    return {
        "pages": pages_,
        "events": await Event.all().order_by("id").values_list("id", "status", "title",
                                                               "scheduled_end"),
        "updates": await EventUpdate.all().order_by("id").values_list("id", "message", "at"),
        "impacts": await UpdateImpact.all().order_by("id").values_list("id", "impact"),
        "affected": await EventComponent.all().order_by("id").values_list("id", "impact"),
        "spans": await ImpactSpan.all().order_by("id").values_list("id", "start", "end"),
        "jobs": await NotificationJob.all().count(),
        "audit": await AuditEntry.all().count(),
        "templates": await Template.all().order_by("id").values_list("id", "name"),
    }
