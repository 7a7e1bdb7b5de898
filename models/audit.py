"""The audit log: every management action, who did it and when."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import id_field, utcnow


class AuditEntry(Model):
    id = id_field()
    actor: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "heliograph.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    actor_email = fields.CharField(max_length=254, default="")
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=32)
    target_id = fields.CharField(max_length=20)
    page_id = fields.CharField(max_length=20, null=True, db_index=True)
    detail: fields.Field[dict] = fields.JSONField(default=dict)  # type: ignore[type-arg]
    at = fields.DatetimeField(default=utcnow, db_index=True)

    actor_id: str | None

    class Meta:
        table = "audit_entry"
        ordering = ["-at"]
