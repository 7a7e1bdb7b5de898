"""Declarative permissions, in one place. Every mutation carries one `Guard` (a field extension)
naming its policy; a schema-walking test fails when a mutation has none.

A guard checks what it can before the resolver runs (signed in? admin? holds the role on some
page?) and turns every DomainError — its own or the resolver's, e.g. FORBIDDEN for the wrong
page — into the matching error type of the mutation's result union."""

from __future__ import annotations

import enum
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from models.enums import Role
from resolvers.auth import require_admin, require_authenticated
from resolvers.errors import FORBIDDEN, DomainError
from schema.errors import error_from


class Policy(enum.Enum):
    ANYONE = "anyone"  # open to anonymous callers (subscribe, signIn, …)
    SIGNED_IN = "signed_in"  # any member
    PAGE_MANAGEMENT = "page_management"  # the role, checked per page in the resolver
    EVENT_MANAGEMENT = "event_management"
    ADMIN = "admin"


_ROLES = {Policy.PAGE_MANAGEMENT: Role.PAGE_MANAGEMENT,
          Policy.EVENT_MANAGEMENT: Role.EVENT_MANAGEMENT}


class Guard(FieldExtension):
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def check(self, info: Info) -> None:
        actor = info.context.actor
        if self.policy is Policy.ANYONE:
            return
        require_authenticated(actor)
        if self.policy is Policy.ADMIN:
            require_admin(actor)
        role = _ROLES.get(self.policy)
        if role is not None and not actor.has_role_anywhere(role):
            raise DomainError(FORBIDDEN, f"You need the {role.value.lower().replace('_', ' ')} "
                                         "role to do this")

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        try:
            self.check(info)
            return await next_(source, info, **kwargs)
        except DomainError as exc:
            return error_from(exc)


class QueryGuard(Guard):
    """The same checks on a management query: a refusal is a GraphQL error with its code
    (`errors[].extensions.code`), the field answers null."""

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        self.check(info)
        return await next_(source, info, **kwargs)


def guard(policy: Policy) -> list[FieldExtension]:
    """`@strawberry.mutation(extensions=guard(Policy.ADMIN))`."""
    return [Guard(policy)]


def guard_query(policy: Policy) -> list[FieldExtension]:
    """`@strawberry.field(extensions=guard_query(Policy.ADMIN))` on management queries."""
    return [QueryGuard(policy)]
