"""Events (incidents and maintenance), their updates, impacts, templates and the status ledger."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import id_field, utcnow
from models.enums import ComponentStatus, EventKind, EventStatus
from models.page import Component, StatusPage


class Event(Model):
    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name="events", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(EventKind, max_length=16)
    status = fields.CharEnumField(EventStatus, max_length=16)
    title = fields.CharField(max_length=300)
    # Incidents: when it began (backdatable). Maintenance: when it went IN_PROGRESS.
    started_at = fields.DatetimeField(null=True)
    # When it reached its final status (null while open).
    ended_at = fields.DatetimeField(null=True)
    scheduled_start = fields.DatetimeField(null=True)
    scheduled_end = fields.DatetimeField(null=True)
    auto_start = fields.BooleanField(default=True)
    auto_complete = fields.BooleanField(default=True)
    # Automatic maintenance transitions notify as the maintenance was published.
    notify_auto = fields.BooleanField(default=True)
    retrospective = fields.BooleanField(default=False)
    cancelled = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(default=utcnow)
    updated_at = fields.DatetimeField(default=utcnow)

    page_id: str

    class Meta:
        table = "event"
        indexes = [("page_id", "kind", "status")]


class EventUpdate(Model):
    id = id_field()
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "heliograph.Event", related_name="updates", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField()
    status = fields.CharEnumField(EventStatus, max_length=16)
    message = fields.TextField()
    notify = fields.BooleanField(default=True)
    automatic = fields.BooleanField(default=False)
    author: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "heliograph.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(default=utcnow)
    edited_at = fields.DatetimeField(null=True)

    event_id: str
    author_id: str | None

    class Meta:
        table = "event_update"
        ordering = ["at", "created_at"]


class UpdateImpact(Model):
    # One component impact set by one update (a delta: unmentioned components keep theirs).

    id = id_field()
    update: fields.ForeignKeyRelation[EventUpdate] = fields.ForeignKeyField(
        "heliograph.EventUpdate", related_name="impacts", on_delete=fields.CASCADE
    )
    component: fields.ForeignKeyRelation[Component] = fields.ForeignKeyField(
        "heliograph.Component", related_name=False, on_delete=fields.CASCADE
    )
    impact = fields.CharEnumField(ComponentStatus, max_length=20)

    update_id: str
    component_id: str

    class Meta:
        table = "update_impact"
        unique_together = (("update", "component"),)


class EventComponent(Model):
    # A component an event affects (ever named in its impacts) or plans (maintenance).

    id = id_field()
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "heliograph.Event", related_name="affected", on_delete=fields.CASCADE
    )
    component: fields.ForeignKeyRelation[Component] = fields.ForeignKeyField(
        "heliograph.Component", related_name=False, on_delete=fields.CASCADE
    )
    # The event's current impact on the component (latest update wins within the event).
    impact = fields.CharEnumField(ComponentStatus, max_length=20)
    planned = fields.BooleanField(default=False)
    position = fields.IntField(default=0)

    event_id: str
    component_id: str

    class Meta:
        table = "event_component"
        unique_together = (("event", "component"),)


class ImpactSpan(Model):
    # The ledger: a maximal time interval during which one event held one component at a
    # non-operational status. `end` is null while it still holds. Rebuilt per event from its
    # updates whenever the event changes; availability and daily bars read only this table.

    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name=False, on_delete=fields.CASCADE
    )
    event: fields.ForeignKeyRelation[Event] = fields.ForeignKeyField(
        "heliograph.Event", related_name="spans", on_delete=fields.CASCADE
    )
    component: fields.ForeignKeyRelation[Component] = fields.ForeignKeyField(
        "heliograph.Component", related_name=False, on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(ComponentStatus, max_length=20)
    start = fields.DatetimeField()
    end = fields.DatetimeField(null=True)

    page_id: str
    event_id: str
    component_id: str

    class Meta:
        table = "impact_span"
        indexes = [("page_id", "start"), ("component_id", "start")]


class Template(Model):
    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name="templates", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(EventKind, max_length=16)
    name = fields.CharField(max_length=200)
    title = fields.CharField(max_length=300, default="")
    message = fields.TextField(default="")
    status = fields.CharEnumField(EventStatus, max_length=16, null=True)
    # [{"componentId": ..., "impact": ...}]
    impacts: fields.Field[list] = fields.JSONField(default=list)  # type: ignore[type-arg]
    created_at = fields.DatetimeField(default=utcnow)
    updated_at = fields.DatetimeField(default=utcnow)

    page_id: str

    class Meta:
        table = "event_template"
        unique_together = (("page", "kind", "name"),)
        ordering = ["name"]
