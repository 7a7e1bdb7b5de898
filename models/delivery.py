"""The outbox: notification jobs recorded with each update, and one delivery per recipient."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import id_field, utcnow
from models.enums import DeliveryKind, DeliveryStatus
from models.event import EventUpdate
from models.page import StatusPage
from models.subscriber import Subscriber


class NotificationJob(Model):
    # Owed for a notifying update; written in the publishing transaction, expanded by a
    # worker into deliveries (idempotently).

    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name=False, on_delete=fields.CASCADE
    )
    update: fields.ForeignKeyRelation[EventUpdate] = fields.ForeignKeyField(
        "heliograph.EventUpdate", related_name="jobs", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(default=utcnow)
    expanded_at = fields.DatetimeField(null=True)
    leased_until = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=64, null=True)

    page_id: str
    update_id: str

    class Meta:
        table = "notification_job"
        indexes = [("expanded_at", "leased_until")]


class Delivery(Model):
    # One message to one subscriber: a notification for an update, or a confirmation /
    # manage-link mail. Unique per (update, subscriber) so expansion is idempotent.

    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name=False, on_delete=fields.CASCADE
    )
    subscriber: fields.ForeignKeyRelation[Subscriber] = fields.ForeignKeyField(
        "heliograph.Subscriber", related_name="deliveries", on_delete=fields.CASCADE
    )
    update: fields.ForeignKeyNullableRelation[EventUpdate] = fields.ForeignKeyField(
        "heliograph.EventUpdate", related_name="deliveries", null=True, on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(DeliveryKind, max_length=16, default=DeliveryKind.NOTIFICATION)
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    # Stable across retries: every mail of one delivery carries the same Message-ID.
    message_id = fields.CharField(max_length=200)
    # For confirmation and manage-link mails: the secret link, kept only until sent.
    payload: fields.Field[dict] = fields.JSONField(null=True)  # type: ignore[type-arg]
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(default=utcnow)
    leased_until = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=64, null=True)
    last_error = fields.TextField(null=True)
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(default=utcnow)

    page_id: str
    subscriber_id: str
    update_id: str | None

    class Meta:
        table = "delivery"
        unique_together = (("update", "subscriber"),)
        indexes = [("status", "next_attempt_at"), ("page_id", "sent_at")]
