"""Who is calling and what they may do: the actor, and the checks every operation calls."""

from __future__ import annotations

from dataclasses import dataclass, field

from models import ALL_PAGES, StatusPage, User
from models.enums import Role, Visibility
from resolvers.errors import FORBIDDEN, UNAUTHENTICATED, DomainError


@dataclass(frozen=True)
class Actor:
    """The caller: anonymous (user None), or a user with their role assignments."""

    user: User | None = None
    # (scope, role): scope is a page id or "*" for all pages
    roles: frozenset[tuple[str, Role]] = field(default_factory=frozenset)
    via: str | None = None  # "token", "session" or None
    token_id: str | None = None
    session_id: str | None = None
    # Who acts when no user does, for the audit log (e.g. "integration:Prometheus").
    label: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.user is not None

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.is_admin

    @property
    def user_id(self) -> str | None:
        return self.user.id if self.user else None

    def has_role(self, role: Role, page_id: str | None) -> bool:
        """Admins have every role; otherwise the role for all pages or for this page."""
        if self.is_admin:
            return True
        if (ALL_PAGES, role) in self.roles:
            return True
        return page_id is not None and (page_id, role) in self.roles

    def has_role_anywhere(self, role: Role) -> bool:
        return self.is_admin or any(r == role for _, r in self.roles)


ANONYMOUS = Actor()


def require_authenticated(actor: Actor) -> User:
    if actor.user is None:
        raise DomainError(UNAUTHENTICATED, "Sign in or send an API token to do this")
    return actor.user


def require_admin(actor: Actor) -> User:
    user = require_authenticated(actor)
    if not user.is_admin:
        raise DomainError(FORBIDDEN, "Only administrators can do this")
    return user


def require_role(actor: Actor, role: Role, page_id: str | None) -> User:
    """Raise UNAUTHENTICATED or FORBIDDEN unless the actor holds `role` on the page."""
    user = require_authenticated(actor)
    if not actor.has_role(role, page_id):
        label = "page management" if role == Role.PAGE_MANAGEMENT else "event management"
        scope = "for this page" if page_id else "for all pages"
        raise DomainError(FORBIDDEN, f"You need the {label} role {scope} to do this")
    return user


def can_view(actor: Actor, page: StatusPage) -> bool:
    """Public pages: anyone. Internal pages: any signed-in member."""
    return page.visibility == Visibility.PUBLIC or actor.authenticated


async def load_actor(user: User, *, via: str, token_id: str | None = None,
                     session_id: str | None = None) -> Actor:
    """Build an Actor with the user's role assignments."""
    if not user.is_active:
        return ANONYMOUS
    from models import RoleAssignment

    rows = await RoleAssignment.filter(user_id=user.id).values_list("scope", "role")
    roles = frozenset((str(scope), Role(role)) for scope, role in rows)
    return Actor(user=user, roles=roles, via=via, token_id=token_id, session_id=session_id)
