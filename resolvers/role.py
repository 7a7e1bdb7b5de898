"""Role assignments: administrators grant and take back roles, for one page or all pages."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import ALL_PAGES, RoleAssignment, StatusPage, User
from models.enums import Role
from resolvers import audit, revocation
from resolvers.auth import Actor, require_admin
from resolvers.errors import conflict, not_found


async def assign_role(*, actor: Actor, user_id: str, role: Role,
                      page_id: str | None = None) -> RoleAssignment:
    """Grant `role` to a user for one page (`page_id`) or all pages (None); unique."""
    require_admin(actor)
    user = await User.filter(id=user_id).first()
    if user is None:
        raise not_found("User", "userId")
    if page_id is not None and not await StatusPage.filter(id=page_id).exists():
        raise not_found("Page", "pageId")
    scope = page_id or ALL_PAGES
    async with in_transaction() as conn:
        taken = RoleAssignment.filter(user_id=user.id, scope=scope, role=role)
        if await taken.using_db(conn).exists():
            raise conflict("The user already has this role for this scope", "role")
        try:
            assignment = await RoleAssignment.create(user_id=user.id, page_id=page_id,
                                                     scope=scope, role=role, using_db=conn)
        except IntegrityError:
            raise conflict("The user already has this role for this scope", "role") from None
        await audit.record(actor, "role.assign", target_type="user", target_id=user.id,
                           page_id=page_id, detail={"role": role.value, "scope": scope,
                                                    "email": user.email}, conn=conn)
    await revocation.announce(revocation.ROLES_CHANGED, user.id)
    return assignment


async def revoke_role(*, actor: Actor, assignment_id: str) -> str:
    """Take a role assignment back; returns its id."""
    require_admin(actor)
    assignment = await RoleAssignment.filter(id=assignment_id).first()
    if assignment is None:
        raise not_found("Role assignment", "id")
    async with in_transaction() as conn:
        await RoleAssignment.filter(id=assignment.id).using_db(conn).delete()
        await audit.record(actor, "role.revoke", target_type="user",
                           target_id=assignment.user_id, page_id=assignment.page_id,
                           detail={"role": assignment.role.value, "scope": assignment.scope},
                           conn=conn)
    await revocation.announce(revocation.ROLES_CHANGED, assignment.user_id)
    return assignment.id


async def roles_of(user_id: str) -> list[RoleAssignment]:
    """A user's role assignments, oldest first."""
    return await RoleAssignment.filter(user_id=user_id).order_by("created_at", "id")


async def roles_of_users(user_ids: list[str]) -> list[list[RoleAssignment]]:
    """Each user's role assignments, oldest first, in one query (the users list's loader)."""
    by_user: dict[str, list[RoleAssignment]] = {uid: [] for uid in user_ids}
    for row in await RoleAssignment.filter(user_id__in=user_ids).order_by("created_at", "id"):
        by_user[row.user_id].append(row)
    return [by_user[uid] for uid in user_ids]
