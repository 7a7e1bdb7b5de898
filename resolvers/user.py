"""Administrators manage users: list, create, edit, deactivate and reactivate."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from models import ApiToken, Session, User
from models.base import utcnow
from resolvers import account, audit, revocation, validate
from resolvers.auth import Actor, require_admin
from resolvers.errors import invalid, not_found
from resolvers.page import KEEP, Keep

LIST_MAX = 500


async def list_users(*, actor: Actor, first: int = 100, offset: int = 0) -> list[User]:
    """Users by email (administrators only)."""
    require_admin(actor)
    if not (1 <= first <= LIST_MAX):
        raise invalid(f"first must be between 1 and {LIST_MAX}", "first")
    if offset < 0:
        raise invalid("offset must not be negative", "offset")
    return await User.all().order_by("email").offset(offset).limit(first)


async def create_user(*, actor: Actor, email: str, password: str, name: str = "",
                      is_admin: bool = False) -> User:
    """Create a user (administrators only)."""
    require_admin(actor)
    return await account.create_user(email=email, password=password, name=name,
                                     is_admin=is_admin, actor=actor)


async def _managed_user(actor: Actor, user_id: str) -> User:
    require_admin(actor)
    user = await User.filter(id=user_id).first()
    if user is None:
        raise not_found("User", "id")
    return user


async def update_user(*, actor: Actor, user_id: str, name: str | Keep = KEEP,
                      is_admin: bool | Keep = KEEP, is_active: bool | Keep = KEEP) -> User:
    """Edit a user's name, administrator flag or active state."""
    user = await _managed_user(actor, user_id)
    changes = _user_changes(actor, user, name, is_admin, is_active)
    rights_changed = "is_admin" in changes and changes["is_admin"] != user.is_admin
    async with in_transaction() as conn:
        for key, value in changes.items():
            setattr(user, key, value)
        if changes:
            await user.save(using_db=conn, update_fields=list(changes))
        if changes.get("is_active") is False:
            # A deactivated user keeps nothing that still opens a door.
            await Session.filter(user_id=user.id).using_db(conn).delete()
            await ApiToken.filter(user_id=user.id, revoked_at=None).using_db(conn).update(
                revoked_at=utcnow())
        await audit.record(actor, "user.update", target_type="user", target_id=user.id,
                           detail={k: str(v) for k, v in changes.items()}, conn=conn)
    # Committed: open connections of this user end (deactivation) or reconnect with their
    # new rights (administrator flag).
    if changes.get("is_active") is False:
        await revocation.announce(revocation.USER_DEACTIVATED, user.id)
    elif rights_changed:
        await revocation.announce(revocation.ROLES_CHANGED, user.id)
    return user


def _user_changes(actor: Actor, user: User, name: str | Keep, is_admin: bool | Keep,
                  is_active: bool | Keep) -> dict[str, Any]:
    """The checked changes: an administrator cannot lock the installation out by demoting or
    deactivating themselves."""
    changes: dict[str, Any] = {}
    if name is not KEEP:
        changes["name"] = validate.text(name, "name", maximum=validate.NAME_MAX, required=False)
    if is_admin is not KEEP:
        if user.id == actor.user_id and not is_admin:
            raise invalid("You cannot remove your own administrator rights", "isAdmin")
        changes["is_admin"] = bool(is_admin)
    if is_active is not KEEP:
        if user.id == actor.user_id and not is_active:
            raise invalid("You cannot deactivate yourself", "isActive")
        changes["is_active"] = bool(is_active)
    return changes
