"""Credentials that change under open connections: tell every process after commit, and
re-check what a connection's credentials allow now.

A websocket is authenticated once, at connect; these two halves let the live layer end (or
narrow) its streams when the member is deactivated, signs out, loses a token or a role: the
signal is fast (the broadcast), the re-check is the truth (the database) for a lost signal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from models import ApiToken, RoleAssignment, Session, User
from models.base import utcnow
from models.enums import Role
from realtime import CredentialChange, publish_credentials
from resolvers.auth import ANONYMOUS, Actor

USER_DEACTIVATED = "USER_DEACTIVATED"
SESSIONS_ENDED = "SESSIONS_ENDED"
SESSION_ENDED = "SESSION_ENDED"
TOKEN_REVOKED = "TOKEN_REVOKED"
ROLES_CHANGED = "ROLES_CHANGED"

_CHUNK = 500  # ids per IN (…) list


async def announce(kind: str, user_id: str, credential_id: str | None = None) -> None:
    """After the change committed: every process re-checks the connections it concerns."""
    await publish_credentials(CredentialChange(kind, user_id, credential_id))


def concerns(change: CredentialChange, actor: Actor) -> str | None:
    """What the change means for a connection of `actor`: "revoked" (its credentials no
    longer work), "changed" (they work with other rights), or None (not concerned)."""
    if actor.user_id is None or actor.user_id != change.user_id:
        return None
    kind = change.kind
    if kind == USER_DEACTIVATED:
        return "revoked"
    if kind == SESSIONS_ENDED:
        return "revoked" if actor.via == "session" else None
    if kind == SESSION_ENDED:
        return "revoked" if actor.session_id == change.credential_id else None
    if kind == TOKEN_REVOKED:
        return "revoked" if actor.token_id == change.credential_id else None
    if kind == ROLES_CHANGED:
        return "changed"
    return None


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    values = sorted(set(ids))
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


async def current_actors(actors: Sequence[Actor]) -> list[Actor]:
    """Each actor as its credentials stand now (ANONYMOUS when they no longer work): a few
    batched queries for any number of actors."""
    now = utcnow()
    sessions: set[str] = set()
    tokens: set[str] = set()
    for chunk in _chunks(a.session_id for a in actors if a.session_id):
        rows = await Session.filter(id__in=chunk, expires_at__gt=now).values_list("id")
        sessions.update(str(row[0]) for row in rows)
    for chunk in _chunks(a.token_id for a in actors if a.token_id):
        rows = await ApiToken.filter(id__in=chunk, revoked_at=None).values_list("id")
        tokens.update(str(row[0]) for row in rows)
    users: dict[str, User] = {}
    roles: dict[str, set[tuple[str, Role]]] = {}
    for chunk in _chunks(a.user_id for a in actors if a.user_id):
        for active in await User.filter(id__in=chunk, is_active=True):
            users[active.id] = active
            roles[active.id] = set()
        rows = await RoleAssignment.filter(user_id__in=chunk).values_list(
            "user_id", "scope", "role")
        for user_id, scope, role in rows:  # type: ignore[misc]
            if str(user_id) in roles:
                roles[str(user_id)].add((str(scope), Role(role)))
    fresh: list[Actor] = []
    for actor in actors:
        user = users.get(actor.user_id or "")
        valid = user is not None and (
            (actor.session_id is None or actor.session_id in sessions)
            and (actor.token_id is None or actor.token_id in tokens))
        if user is None or not valid:
            fresh.append(ANONYMOUS)
            continue
        fresh.append(Actor(user=user, roles=frozenset(roles[user.id]), via=actor.via,
                           token_id=actor.token_id, session_id=actor.session_id))
    return fresh
