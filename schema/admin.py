"""Administration: users, role assignments and the audit log (administrators only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from models import AuditEntry, User
from resolvers import audit_log, role
from resolvers import user as users
from schema.account import RoleAssignmentType
from schema.base import Role, not_null
from schema.context import Info
from schema.errors import CommonErrors
from schema.permissions import Policy, guard, guard_query


@strawberry.type(name="User")
class UserType:
    id: strawberry.ID
    email: str
    name: str
    is_admin: bool
    is_active: bool
    created_at: datetime

    @classmethod
    def from_model(cls, user: User) -> UserType:
        return cls(id=strawberry.ID(user.id), email=user.email, name=user.name,
                   is_admin=user.is_admin, is_active=user.is_active, created_at=user.created_at)

    @strawberry.field
    async def roles(self, info: Info) -> list[RoleAssignmentType]:
        rows = await info.context.loaders.roles_by_user.load(str(self.id))
        return [RoleAssignmentType.from_model(r) for r in rows]


@strawberry.type(name="AuditEntry")
class AuditEntryType:
    id: strawberry.ID
    at: datetime
    actor_id: strawberry.ID | None
    actor_email: str
    action: str
    target_type: str
    target_id: str
    page_id: strawberry.ID | None
    detail: JSON

    @classmethod
    def from_model(cls, entry: AuditEntry) -> AuditEntryType:
        return cls(id=strawberry.ID(entry.id), at=entry.at,
                   actor_id=strawberry.ID(entry.actor_id) if entry.actor_id else None,
                   actor_email=entry.actor_email, action=entry.action,
                   target_type=entry.target_type, target_id=entry.target_id,
                   page_id=strawberry.ID(entry.page_id) if entry.page_id else None,
                   detail=JSON(entry.detail))


@strawberry.input
class CreateUserInput:
    email: str
    password: str
    name: str = ""
    is_admin: bool = False


@strawberry.input
class UpdateUserInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    is_admin: bool | None = strawberry.UNSET


@strawberry.input
class DeactivateUserInput:
    id: strawberry.ID


@strawberry.input
class ReactivateUserInput:
    id: strawberry.ID


@strawberry.input
class AssignRoleInput:
    user_id: strawberry.ID
    role: Role
    page_id: strawberry.ID | None = strawberry.field(
        default=None, description="The page the role holds on; null: all pages.")


@strawberry.input
class RevokeRoleInput:
    id: strawberry.ID


@strawberry.type
class CreateUserPayload:
    user: UserType


@strawberry.type
class UpdateUserPayload:
    user: UserType


@strawberry.type
class DeactivateUserPayload:
    user: UserType


@strawberry.type
class ReactivateUserPayload:
    user: UserType


@strawberry.type
class AssignRolePayload:
    assignment: RoleAssignmentType


@strawberry.type
class RevokeRolePayload:
    revoked_role_id: strawberry.ID


CreateUserResult = Annotated[CreateUserPayload | CommonErrors, strawberry.union("CreateUserResult")]
UpdateUserResult = Annotated[UpdateUserPayload | CommonErrors, strawberry.union("UpdateUserResult")]
DeactivateUserResult = Annotated[
    DeactivateUserPayload | CommonErrors,
    strawberry.union("DeactivateUserResult"),
]
ReactivateUserResult = Annotated[
    ReactivateUserPayload | CommonErrors,
    strawberry.union("ReactivateUserResult"),
]
AssignRoleResult = Annotated[AssignRolePayload | CommonErrors, strawberry.union("AssignRoleResult")]
RevokeRoleResult = Annotated[RevokeRolePayload | CommonErrors, strawberry.union("RevokeRoleResult")]


@strawberry.type
class Query:
    @strawberry.field(extensions=guard_query(Policy.ADMIN),
                      description="Every user, by email (administrators only).")
    async def users(self, info: Info, first: int = 100, offset: int = 0) -> list[UserType]:
        rows = await users.list_users(actor=info.context.actor, first=first, offset=offset)
        return [UserType.from_model(u) for u in rows]

    @strawberry.field(extensions=guard_query(Policy.ADMIN),
                      description="Management actions, newest first (administrators only).")
    async def audit_log(self, info: Info, first: int = 50, before: datetime | None = None,
                        page_id: strawberry.ID | None = None,
                        action: str | None = None) -> list[AuditEntryType]:
        rows = await audit_log.entries(actor=info.context.actor, first=first, before=before,
                                       page_id=str(page_id) if page_id else None,
                                       action=action)
        return [AuditEntryType.from_model(e) for e in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.ADMIN))
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserResult:
        user = await users.create_user(actor=info.context.actor, email=input.email,
                                       password=input.password, name=input.name,
                                       is_admin=input.is_admin)
        return CreateUserPayload(user=UserType.from_model(user))

    @strawberry.mutation(extensions=guard(Policy.ADMIN))
    async def update_user(self, info: Info, input: UpdateUserInput) -> UpdateUserResult:
        user = await users.update_user(actor=info.context.actor, user_id=str(input.id),
                                       name=not_null(input.name, "name"),
                                       is_admin=not_null(input.is_admin, "isAdmin"))
        return UpdateUserPayload(user=UserType.from_model(user))

    @strawberry.mutation(extensions=guard(Policy.ADMIN),
                         description="Deactivate a user: their sessions end, tokens are revoked.")
    async def deactivate_user(self, info: Info,
                              input: DeactivateUserInput) -> DeactivateUserResult:
        user = await users.update_user(actor=info.context.actor, user_id=str(input.id),
                                       is_active=False)
        return DeactivateUserPayload(user=UserType.from_model(user))

    @strawberry.mutation(extensions=guard(Policy.ADMIN))
    async def reactivate_user(self, info: Info,
                              input: ReactivateUserInput) -> ReactivateUserResult:
        user = await users.update_user(actor=info.context.actor, user_id=str(input.id),
                                       is_active=True)
        return ReactivateUserPayload(user=UserType.from_model(user))

    @strawberry.mutation(extensions=guard(Policy.ADMIN),
                         description="Grant a role for one page or all pages.")
    async def assign_role(self, info: Info, input: AssignRoleInput) -> AssignRoleResult:
        row = await role.assign_role(actor=info.context.actor, user_id=str(input.user_id),
                                     role=input.role,
                                     page_id=str(input.page_id) if input.page_id else None)
        return AssignRolePayload(assignment=RoleAssignmentType.from_model(row))

    @strawberry.mutation(extensions=guard(Policy.ADMIN))
    async def revoke_role(self, info: Info, input: RevokeRoleInput) -> RevokeRoleResult:
        revoked = await role.revoke_role(actor=info.context.actor,
                                         assignment_id=str(input.id))
        return RevokeRolePayload(revoked_role_id=strawberry.ID(revoked))
