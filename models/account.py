"""Users, role assignments, API tokens and browser sessions."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.base import id_field, utcnow
from models.enums import Role
from models.page import StatusPage

ALL_PAGES = "*"


class User(Model):
    id = id_field()
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=200, default="")
    password_hash = fields.CharField(max_length=255)
    is_admin = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(default=utcnow)

    class Meta:
        table = "app_user"


class RoleAssignment(Model):
    # A role for all pages (`scope` = "*", page null) or for one page (`scope` = page id).

    id = id_field()
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "heliograph.User", related_name="roles", on_delete=fields.CASCADE
    )
    page: fields.ForeignKeyNullableRelation[StatusPage] = fields.ForeignKeyField(
        "heliograph.StatusPage", related_name=False, null=True, on_delete=fields.CASCADE
    )
    # Unique constraints treat NULLs as distinct, so the scope is also kept as a non-null key.
    scope = fields.CharField(max_length=20, default=ALL_PAGES)
    role = fields.CharEnumField(Role, max_length=32)
    created_at = fields.DatetimeField(default=utcnow)

    user_id: str
    page_id: str | None

    class Meta:
        table = "role_assignment"
        unique_together = (("user", "scope", "role"),)


class ApiToken(Model):
    # Shown once; stored as SHA-256 of the whole token, found by its non-secret prefix.

    id = id_field()
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "heliograph.User", related_name="tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200, default="")
    prefix = fields.CharField(max_length=16, unique=True)
    token_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(default=utcnow)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    user_id: str

    class Meta:
        table = "api_token"


class Session(Model):
    # A browser session; the cookie carries the secret, the database its SHA-256.

    id = id_field()
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "heliograph.User", related_name="sessions", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(default=utcnow)
    expires_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField(default=utcnow)

    user_id: str

    class Meta:
        table = "user_session"


class SignInAttempt(Model):
    # Failed sign-ins, for throttling (per address and per client IP).

    id = id_field()
    email = fields.CharField(max_length=254, db_index=True)
    ip = fields.CharField(max_length=64, default="", db_index=True)
    at = fields.DatetimeField(default=utcnow)

    class Meta:
        table = "sign_in_attempt"


class OidcIdentity(Model):
    # A user's account at an OpenID Connect provider: (issuer, subject) names it for good.

    id = id_field()
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "heliograph.User", related_name="identities", on_delete=fields.CASCADE
    )
    issuer = fields.CharField(max_length=255)
    subject = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(default=utcnow)
    last_sign_in_at = fields.DatetimeField(default=utcnow)
    # The provider said `email_verified: true` for the account's own address at the last
    # sign-in (a member admitted by group may bring an address nobody verified).
    email_verified = fields.BooleanField(default=False)

    user_id: str

    class Meta:
        table = "oidc_identity"
        unique_together = (("issuer", "subject"),)


class OidcLogin(Model):
    # A sign-in begun at the provider and not finished yet: used once, then deleted.
    # `state_hash` finds it; `browser_hash` ties it to the browser that began it (cookie).

    id = id_field()
    state_hash = fields.CharField(max_length=64, unique=True)
    browser_hash = fields.CharField(max_length=64)
    nonce = fields.CharField(max_length=64)
    code_verifier = fields.CharField(max_length=128)
    next_path = fields.CharField(max_length=500, default="/")
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "oidc_login"
