"""Status pages, component groups and components."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import id_field, utcnow
from models.enums import Visibility


class StatusPage(Model):
    id = id_field()
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    visibility = fields.CharEnumField(Visibility, max_length=16, default=Visibility.PUBLIC)
    time_zone = fields.CharField(max_length=64, default="UTC")
    # The language of its pages, mails and IM cards ("en", "zh-CN": i18n.SUPPORTED); with
    # `allow_visitor_language`, a visitor's Accept-Language picks among the supported ones.
    language = fields.CharField(max_length=16, default="en")
    allow_visitor_language = fields.BooleanField(default=True)
    position = fields.IntField(default=0)
    # Incremented in the transaction of every committed change to the page's visible state.
    sequence = fields.BigIntField(default=0)
    # Branding (docs/pages.md "Custom domains and branding"): an https logo, a #rrggbb accent.
    logo_url = fields.CharField(max_length=500, default="")
    accent_color = fields.CharField(max_length=7, default="")
    created_at = fields.DatetimeField(default=utcnow)
    updated_at = fields.DatetimeField(default=utcnow)

    class Meta:
        table = "status_page"
        ordering = ["position", "created_at"]


class PageDomain(Model):
    """A host name that serves one page at its root (unique across pages)."""

    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name="domains", on_delete=fields.CASCADE
    )
    host = fields.CharField(max_length=253, unique=True)
    position = fields.IntField(default=0)

    page_id: str

    class Meta:
        table = "page_domain"
        ordering = ["position"]


class ComponentGroup(Model):
    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name="groups", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    position = fields.IntField(default=0)
    created_at = fields.DatetimeField(default=utcnow)

    page_id: str

    class Meta:
        table = "component_group"
        ordering = ["position", "created_at"]


class Component(Model):
    id = id_field()
    page: fields.ForeignKeyRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name="components", on_delete=fields.CASCADE
    )
    group: fields.ForeignKeyNullableRelation[ComponentGroup] = fields.ForeignKeyField(
        "heliograph.ComponentGroup",
        related_name="components",
        null=True,
        on_delete=fields.SET_NULL,
    )
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    position = fields.IntField(default=0)
    # Availability is counted from here (PRODUCT.md §1); may be moved earlier, never past now.
    since = fields.DatetimeField(default=utcnow)
    showcase = fields.BooleanField(default=True)
    only_show_if_degraded = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(default=utcnow)
    updated_at = fields.DatetimeField(default=utcnow)

    page_id: str
    group_id: str | None

    class Meta:
        table = "component"
        ordering = ["position", "created_at"]
