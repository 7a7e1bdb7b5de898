"""Counters for abuse limits, shared by every process through the database."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import id_field


class RateCounter(Model):
    # Hits of one key (a hashed mailbox, a network, a page's mail budget) in one fixed window.
    # Rows are pruned once their window is over: the table holds the current windows only.

    id = id_field()
    key = fields.CharField(max_length=100)
    window_start = fields.BigIntField()  # Unix seconds
    hits = fields.IntField(default=0)
    expires_at = fields.BigIntField(db_index=True)  # Unix seconds: the window's end

    class Meta:
        table = "rate_counter"
        unique_together = (("key", "window_start"),)
