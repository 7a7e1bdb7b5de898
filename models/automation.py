"""Automation: alert integrations, their durable inbox, the state of each alert, and the rules
that turn alerts into incidents."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import id_field, utcnow
from models.enums import ComponentStatus, IntegrationKind
from models.event import Event
from models.page import StatusPage


class Integration(Model):
    # A sender of alerts for one page. Its token is shown once; stored as SHA-256 of the whole
    # token, found by its non-secret prefix (like API tokens).

    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name="integrations", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    kind = fields.CharEnumField(IntegrationKind, max_length=16)
    prefix = fields.CharField(max_length=16, unique=True)
    token_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(default=utcnow)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    page_id: str

    class Meta:
        table = "integration"
        ordering = ["created_at", "id"]


class AlertInbox(Model):
    # One accepted payload (its alerts, already parsed), written before the sender gets its
    # 202 and processed by a worker; `processed_at` is set in the transaction that applies it.

    id = id_field()
    integration: fields.ForeignKeyRelation[Integration] = fields.ForeignKeyField(
        "heliograph.Integration", related_name=False, on_delete=fields.CASCADE
    )
    # [{"key", "status", "name", "labels", "summary", "description", "startsAt", "endsAt"}]
    alerts: fields.Field[list] = fields.JSONField(default=list)  # type: ignore[type-arg]
    received_at = fields.DatetimeField(default=utcnow)
    processed_at = fields.DatetimeField(null=True)
    leased_until = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=64, null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)

    integration_id: str

    class Meta:
        table = "alert_inbox"
        indexes = [("processed_at", "received_at")]


class AutomationRule(Model):
    # Which alerts (label matchers) open an incident on which components at which impact.
    # The rule also remembers its open automated incident and what it last applied to it.

    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name="automation_rules", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    position = fields.IntField(default=0)
    enabled = fields.BooleanField(default=True)
    # [{"label", "op": MatchOp, "value"}]; every matcher must hold (no matchers: every alert)
    matchers: fields.Field[list] = fields.JSONField(default=list)  # type: ignore[type-arg]
    component_ids: fields.Field[list] = fields.JSONField(default=list)  # type: ignore[type-arg]
    # An alert label whose value names one more component of the page (by name or id).
    component_label = fields.CharField(max_length=200, default="")
    impact = fields.CharEnumField(ComponentStatus, max_length=20)
    # An alert label whose value picks the impact: [{"value", "impact"}], else `impact`.
    impact_label = fields.CharField(max_length=200, default="")
    impact_map: fields.Field[list] = fields.JSONField(default=list)  # type: ignore[type-arg]
    title_template = fields.CharField(max_length=300, default="")
    message_template = fields.TextField(default="")
    notify = fields.BooleanField(default=True)
    open_after_seconds = fields.IntField(default=0)
    resolve_after_seconds = fields.IntField(default=0)
    # Once a person posts on the automated incident, automation only adds notes.
    human_wins = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(default=utcnow)
    updated_at = fields.DatetimeField(default=utcnow)
    # The open automated incident, and what automation last made of it:
    # {"phase": "OPEN"|"MONITORING", "impacts": {component: impact}, "alerts": [keys]}
    event: fields.ForeignKeyNullableRelation[Event] = fields.ForeignKeyField(
        "heliograph.Event", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    applied: fields.Field[dict] = fields.JSONField(default=dict)  # type: ignore[type-arg]

    page_id: str
    event_id: str | None

    class Meta:
        table = "automation_rule"
        ordering = ["position", "created_at"]


class AlertState(Model):
    # The latest known state of one alert of one integration (its key: Alertmanager's and
    # Grafana's fingerprint, the generic format's `key`). Re-sent alerts land on the same row.

    id = id_field()
    integration: fields.ForeignKeyRelation[Integration] = fields.ForeignKeyField(
        "heliograph.Integration", related_name=False, on_delete=fields.CASCADE
    )
    page_id = fields.CharField(max_length=20, db_index=True)
    key = fields.CharField(max_length=200)
    name = fields.CharField(max_length=300, default="")
    labels: fields.Field[dict] = fields.JSONField(default=dict)  # type: ignore[type-arg]
    summary = fields.CharField(max_length=300, default="")
    description = fields.TextField(default="")
    firing = fields.BooleanField(default=False)
    # When the current firing began (hold-down counts from here) / when it last resolved.
    fired_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    # The rule it matched when it began firing (null: none matched).
    rule: fields.ForeignKeyNullableRelation[AutomationRule] = fields.ForeignKeyField(
        "heliograph.AutomationRule", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # The receipt time of the last notification applied (older ones are stale).
    seen_at = fields.DatetimeField(default=utcnow)

    integration_id: str
    rule_id: str | None

    class Meta:
        table = "alert_state"
        unique_together = (("integration", "key"),)
        indexes = [("rule_id", "firing")]
