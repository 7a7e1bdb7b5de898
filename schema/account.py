"""Accounts: `viewer` (with its tokens and roles), sign-in and sign-out, API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from starlette.responses import Response

from models import ALL_PAGES, ApiToken, RoleAssignment, User
from resolvers import account, role, session
from resolvers.auth import require_authenticated
from resolvers.errors import invalid
from resolvers.page import visible_page
from schema.base import Role
from schema.context import Info
from schema.errors import CommonErrors, RateLimitedError
from schema.permissions import Policy, guard
from settings import get_settings

if TYPE_CHECKING:
    from schema.page import StatusPageType


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


@strawberry.type(name="RoleAssignment")
class RoleAssignmentType:
    id: strawberry.ID
    role: Role
    all_pages: bool = strawberry.field(description="True: the role holds on every page.")
    page_id: strawberry.ID | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: RoleAssignment) -> RoleAssignmentType:
        return cls(id=strawberry.ID(row.id), role=row.role, all_pages=row.scope == ALL_PAGES,
                   page_id=strawberry.ID(row.page_id) if row.page_id else None,
                   created_at=row.created_at)

    @strawberry.field(description="The page the role holds on; null for all pages.")
    async def page(self, info: Info) -> Annotated[
        StatusPageType, strawberry.lazy("schema.page")
    ] | None:
        from schema.page import StatusPageType

        if self.page_id is None:
            return None
        page = await visible_page(info.context.actor, page_id=str(self.page_id))
        return StatusPageType.from_model(page) if page else None


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

    @strawberry.field(description="Your API tokens, newest first (secrets are never shown).")
    async def api_tokens(self) -> list[ApiTokenType]:
        return [ApiTokenType.from_model(t) for t in await account.tokens_of(self.model.id)]

    @strawberry.field(description="Your role assignments (administrators hold every role).")
    async def roles(self) -> list[RoleAssignmentType]:
        return [RoleAssignmentType.from_model(r) for r in await role.roles_of(self.model.id)]


@strawberry.input
class CreateApiTokenInput:
    name: str = ""


@strawberry.input
class RevokeApiTokenInput:
    id: strawberry.ID


@strawberry.input
class SignInInput:
    email: str
    password: str


@strawberry.input
class SignOutInput:
    everywhere: bool = strawberry.field(default=False,
                                        description="End every session of your account.")


@strawberry.type
class CreateApiTokenPayload:
    token: str = strawberry.field(description="The secret: shown once, never again.")
    api_token: ApiTokenType


@strawberry.type
class RevokeApiTokenPayload:
    api_token: ApiTokenType


@strawberry.type
class SignInPayload:
    viewer: ViewerType


@strawberry.type
class SignOutPayload:
    ended_sessions: int


CreateApiTokenResult = Annotated[
    CreateApiTokenPayload | CommonErrors,
    strawberry.union("CreateApiTokenResult"),
]
RevokeApiTokenResult = Annotated[
    RevokeApiTokenPayload | CommonErrors,
    strawberry.union("RevokeApiTokenResult"),
]
SignInResult = Annotated[
    SignInPayload | CommonErrors | RateLimitedError,
    strawberry.union("SignInResult"),
]
SignOutResult = Annotated[SignOutPayload | CommonErrors, strawberry.union("SignOutResult")]


def _client_ip(info: Info) -> str:
    request = info.context.request
    return request.client.host if request is not None and request.client else ""


def _cookie_response(info: Info) -> Response | None:
    # Only an HTTP response can carry a cookie (a websocket operation cannot sign in).
    response = info.context.response
    return response if isinstance(response, Response) else None


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user or the token's owner; null if anonymous.")
    async def viewer(self, info: Info) -> ViewerType | None:
        user = info.context.actor.user
        return ViewerType.from_model(user) if user else None


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.ANYONE),
                         description="Open a browser session (sets an HTTP-only cookie).")
    async def sign_in(self, info: Info, input: SignInInput) -> SignInResult:
        response = _cookie_response(info)
        if response is None:
            raise invalid("Sign in over HTTP")
        request = info.context.request
        previous = request.cookies.get(session.COOKIE_NAME) if request is not None else None
        # The app's settings (tests build apps with their own); the process's otherwise.
        mode = (request.app.state.settings if request is not None and "app" in request.scope
                else get_settings()).local_passwords
        signed = await session.sign_in(email=input.email, password=input.password,
                                       ip=_client_ip(info), previous_cookie=previous,
                                       local_passwords=mode)
        response.set_cookie(session.COOKIE_NAME, signed.cookie, **session.cookie_options())
        return SignInPayload(viewer=ViewerType.from_model(signed.user))

    @strawberry.mutation(extensions=guard(Policy.SIGNED_IN),
                         description="End this browser session (or all of them).")
    async def sign_out(self, info: Info, input: SignOutInput) -> SignOutResult:
        ended = await session.sign_out(actor=info.context.actor, everywhere=input.everywhere)
        response = _cookie_response(info)
        if response is not None and info.context.actor.via == "session":
            options = session.cookie_options()
            response.delete_cookie(session.COOKIE_NAME, path="/", httponly=True,
                                   samesite="lax", secure=bool(options["secure"]))
        return SignOutPayload(ended_sessions=ended)

    @strawberry.mutation(extensions=guard(Policy.SIGNED_IN))
    async def create_api_token(self, info: Info,
                               input: CreateApiTokenInput) -> CreateApiTokenResult:
        user = require_authenticated(info.context.actor)
        if len(input.name) > 200:
            raise invalid("name must be at most 200 characters", "name")
        secret, token = await account.issue_token(user=user, name=input.name,
                                                  actor=info.context.actor)
        return CreateApiTokenPayload(token=secret, api_token=ApiTokenType.from_model(token))

    @strawberry.mutation(extensions=guard(Policy.SIGNED_IN),
                         description="Revoke one of your API tokens; it stops working at once.")
    async def revoke_api_token(self, info: Info,
                               input: RevokeApiTokenInput) -> RevokeApiTokenResult:
        token = await account.revoke_token(actor=info.context.actor, token_id=str(input.id))
        return RevokeApiTokenPayload(api_token=ApiTokenType.from_model(token))
