"""Subscribers (email on public pages, IM on internal pages, webhooks on both), their scopes
and IM bindings."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.account import User
from models.base import id_field, utcnow
from models.enums import ImProvider, SubscriberChannel, SubscriberState
from models.event import Event
from models.page import Component, StatusPage


class ImDestination(Model):
    # A signed-in member's IM webhook (Slack, Feishu, DingTalk, WeCom, Teams, Discord), or,
    # when `recipient` is set, direct messages to the member through the provider's app that an
    # administrator set up (`recipient` is the member's id there; `webhook_url` is empty).

    id = id_field()
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "heliograph.User", related_name="im_destinations", on_delete=fields.CASCADE
    )
    provider = fields.CharEnumField(ImProvider, max_length=16)
    name = fields.CharField(max_length=200, default="")
    webhook_url = fields.CharField(max_length=1000)
    secret = fields.CharField(max_length=200, null=True)
    recipient = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField(default=utcnow)

    user_id: str

    class Meta:
        table = "im_destination"


class Subscriber(Model):
    # One subscription to a page. Scope: whole page (no components, no event), chosen
    # components (`components`), or one event (`event`).

    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name="subscribers", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(SubscriberChannel, max_length=8)
    # Lower-cased; unique per page (see Meta). Null for IM subscribers.
    email = fields.CharField(max_length=254, null=True)
    destination: fields.ForeignKeyNullableRelation[ImDestination] = fields.ForeignKeyField(
        "heliograph.ImDestination", related_name="subscriptions", null=True,
        on_delete=fields.CASCADE,
    )
    event: fields.ForeignKeyNullableRelation[Event] = fields.ForeignKeyField(
        "heliograph.Event", related_name="subscribers", null=True, on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(SubscriberState, max_length=16, default=SubscriberState.PENDING)
    # Webhooks: the endpoint and its Standard Webhooks secret (`whsec_…`), kept as given
    # because every message is signed with it (docs/notifications.md); consecutive failed
    # deliveries, and why it was disabled.
    webhook_url = fields.CharField(max_length=1000, null=True)
    webhook_secret = fields.CharField(max_length=100, null=True)
    failure_count = fields.IntField(default=0)
    disabled_reason = fields.TextField(null=True)
    disabled_at = fields.DatetimeField(null=True)
    confirm_token_hash = fields.CharField(max_length=64, null=True, unique=True)
    confirm_expires_at = fields.DatetimeField(null=True)
    confirmed_at = fields.DatetimeField(null=True)
    unsubscribed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(default=utcnow)
    updated_at = fields.DatetimeField(default=utcnow)

    page_id: str
    destination_id: str | None
    event_id: str | None

    class Meta:
        table = "subscriber"
        unique_together = (("page", "email"), ("page", "destination"))


class SubscriberComponent(Model):
    id = id_field()
    subscriber: fields.ForeignKeyRelation[Subscriber] = fields.ForeignKeyField(
        "heliograph.Subscriber", related_name="components", on_delete=fields.CASCADE
    )
    component: fields.ForeignKeyRelation[Component] = fields.ForeignKeyField(
        "heliograph.Component", related_name=False, on_delete=fields.CASCADE
    )

    subscriber_id: str
    component_id: str

    class Meta:
        table = "subscriber_component"
        unique_together = (("subscriber", "component"),)
