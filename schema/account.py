"""Accounts: `viewer`, API tokens (the accounts issue adds sign-in, roles and users)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import ApiToken, User
from resolvers import account
from resolvers.auth import require_authenticated
from resolvers.errors import invalid
from schema.base import result
from schema.context import Info
from schema.permissions import Policy, guard


@strawberry.type(name="ApiToken")
class ApiTokenType:
    id: strawberry.ID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, token: ApiToken) -> ApiTokenType:
        return cls(id=strawberry.ID(token.id), name=token.name, prefix=token.prefix,
                   created_at=token.created_at, last_used_at=token.last_used_at,
                   revoked_at=token.revoked_at)


@strawberry.type(name="Viewer")
class ViewerType:
    id: strawberry.ID
    email: str
    name: str
    is_admin: bool
    model: strawberry.Private[User]

    @classmethod
    def from_model(cls, user: User) -> ViewerType:
        return cls(id=strawberry.ID(user.id), email=user.email, name=user.name,
                   is_admin=user.is_admin, model=user)


@strawberry.input
class CreateApiTokenInput:
    name: str = ""


@strawberry.type
class CreateApiTokenPayload:
    token: str = strawberry.field(description="The secret: shown once, never again.")
    api_token: ApiTokenType


CreateApiTokenResult = result("CreateApiTokenResult", CreateApiTokenPayload)


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user or the token's owner; null if anonymous.")
    async def viewer(self, info: Info) -> ViewerType | None:
        user = info.context.actor.user
        return ViewerType.from_model(user) if user else None


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.SIGNED_IN))
    async def create_api_token(self, info: Info,
                               input: CreateApiTokenInput) -> CreateApiTokenResult:
        user = require_authenticated(info.context.actor)
        if len(input.name) > 200:
            raise invalid("name must be at most 200 characters", "name")
        secret, token = await account.issue_token(user=user, name=input.name,
                                                  actor=info.context.actor)
        return CreateApiTokenPayload(token=secret, api_token=ApiTokenType.from_model(token))
