"""Users, passwords (argon2) and API tokens (SHA-256 with a lookup prefix)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import ApiToken, User
from models.base import utcnow
from resolvers import audit, revocation, validate
from resolvers.auth import ANONYMOUS, Actor, load_actor, require_authenticated
from resolvers.errors import conflict, invalid, not_found
from resolvers.validate import normalise_email as normalise_email  # sign-in imports it here

_hasher = PasswordHasher()
TOKEN_PREFIX = "hgt"
PASSWORD_MIN = 8
PASSWORD_MAX = 1024
# Writing last_used_at on every request would serialise tools on one row; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def check_password(password: str, field: str = "password") -> str:
    if len(password) < PASSWORD_MIN:
        raise invalid(f"A password needs at least {PASSWORD_MIN} characters", field)
    if len(password) > PASSWORD_MAX:
        raise invalid(f"A password has at most {PASSWORD_MAX} characters", field)
    return password


async def create_user(*, email: str, password: str, is_admin: bool = False, name: str = "",
                      actor: Actor = ANONYMOUS) -> User:
    """Create a user (the CLI and administrators call this)."""
    email = normalise_email(email)
    check_password(password)
    name = validate.text(name, "name", maximum=validate.NAME_MAX, required=False)
    async with in_transaction() as conn:
        if await User.filter(email=email).using_db(conn).exists():
            raise conflict("A user with this email already exists", "email")
        try:
            user = await User.create(email=email, name=name, is_admin=is_admin,
                                     password_hash=hash_password(password), using_db=conn)
        except IntegrityError:
            raise conflict("A user with this email already exists", "email") from None
        await audit.record(actor, "user.create", target_type="user", target_id=user.id,
                           detail={"email": email, "admin": is_admin}, conn=conn)
    return user


async def issue_token(*, user: User, name: str = "", actor: Actor | None = None
                      ) -> tuple[str, ApiToken]:
    """A new API token for `user`: returns (the secret, shown once; its stored record)."""
    name = validate.text(name, "name", maximum=validate.NAME_MAX, required=False)
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    async with in_transaction() as conn:
        token = await ApiToken.create(user_id=user.id, name=name, prefix=prefix,
                                      token_hash=sha256(secret), using_db=conn)
        who = actor or Actor(user=user)
        await audit.record(who, "token.create", target_type="token", target_id=token.id,
                           detail={"name": name, "user": user.email}, conn=conn)
    return secret, token


async def actor_for_token(raw: str) -> Actor:
    """The actor a Bearer token stands for; ANONYMOUS when it is unknown or revoked."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return ANONYMOUS
    token = await ApiToken.filter(prefix=parts[1]).select_related("user").first()
    if token is None or token.revoked_at is not None:
        return ANONYMOUS
    if not hmac.compare_digest(token.token_hash, sha256(raw.strip())):
        return ANONYMOUS
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        await ApiToken.filter(id=token.id).update(last_used_at=now)
    return await load_actor(token.user, via="token", token_id=token.id)


async def tokens_of(user_id: str) -> list[ApiToken]:
    """A user's API tokens, newest first (revoked ones included, marked)."""
    return await ApiToken.filter(user_id=user_id).order_by("-created_at", "id")


async def revoke_token(*, actor: Actor, token_id: str) -> ApiToken:
    """Revoke an API token: its owner or an administrator; it stops working at once."""
    user = require_authenticated(actor)
    token = await ApiToken.filter(id=token_id).first()
    # Someone else's token answers like an unknown one: ids of others' tokens do not leak.
    if token is None or (token.user_id != user.id and not user.is_admin):
        raise not_found("API token", "id")
    if token.revoked_at is None:
        async with in_transaction() as conn:
            token.revoked_at = utcnow()
            await token.save(using_db=conn, update_fields=["revoked_at"])
            await audit.record(actor, "token.revoke", target_type="token", target_id=token.id,
                               detail={"name": token.name}, conn=conn)
        await revocation.announce(revocation.TOKEN_REVOKED, token.user_id, token.id)
    return token
