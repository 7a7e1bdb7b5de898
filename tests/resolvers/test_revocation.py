"""Credentials re-checked under open connections: each change is announced after commit, and
re-reading a batch of actors answers what their credentials allow now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from models import Session
from models.base import utcnow
from models.enums import Role
from realtime import CredentialChange, hub
from resolvers import revocation, session
from resolvers.account import actor_for_token, create_user, issue_token, revoke_token
from resolvers.auth import load_actor
from resolvers.role import assign_role, revoke_role
from resolvers.user import update_user

PASSWORD = "long enough pw"


@pytest.fixture
async def people(db: str) -> tuple[Any, Any]:
    admin = await create_user(email="root@example.com", password=PASSWORD, is_admin=True)
    member = await create_user(email="m@example.com", password=PASSWORD)
    return admin, member


@pytest.fixture
def heard() -> Any:
    changes: list[CredentialChange] = []
    stop = hub.add_credentials_listener(changes.append)
    yield changes
    stop()


async def test_each_change_is_announced_once_committed(people: tuple[Any, Any],
                                                       heard: list[CredentialChange]) -> None:
    admin, member = people
    boss = await load_actor(admin, via="token")
    signed = await session.sign_in(email="m@example.com", password=PASSWORD)
    me = await session.actor_for_session(signed.cookie)
    secret, token = await issue_token(user=member)
    await session.sign_out(actor=me)
    await revoke_token(actor=boss, token_id=token.id)
    assignment = await assign_role(actor=boss, user_id=member.id, role=Role.PAGE_MANAGEMENT)
    await revoke_role(actor=boss, assignment_id=assignment.id)
    await update_user(actor=boss, user_id=member.id, is_admin=True)
    await update_user(actor=boss, user_id=member.id, is_admin=True)  # already: no change
    await update_user(actor=boss, user_id=member.id, name="Renamed")  # rights unchanged
    await update_user(actor=boss, user_id=member.id, is_active=False)
    assert [(c.kind, c.credential_id) for c in heard] == [
        (revocation.SESSION_ENDED, signed.session.id),
        (revocation.TOKEN_REVOKED, token.id),
        (revocation.ROLES_CHANGED, None),
        (revocation.ROLES_CHANGED, None),
        (revocation.ROLES_CHANGED, None),
        (revocation.USER_DEACTIVATED, None),
    ]
    assert {c.user_id for c in heard} == {member.id}
    assert (await actor_for_token(secret)).user is None


async def test_current_actors_answers_what_each_credential_allows_now(
        people: tuple[Any, Any]) -> None:
    admin, member = people
    boss = await load_actor(admin, via="token")
    expired = await session.sign_in(email="m@example.com", password=PASSWORD)
    live = await session.sign_in(email="m@example.com", password=PASSWORD)
    secret, token = await issue_token(user=member)
    actors = [await session.actor_for_session(expired.cookie),
              await session.actor_for_session(live.cookie),
              await actor_for_token(secret)]
    await Session.filter(id=expired.session.id).update(expires_at=utcnow() - timedelta(1))
    await assign_role(actor=boss, user_id=member.id, role=Role.EVENT_MANAGEMENT)

    now = await revocation.current_actors(actors)
    assert [a.authenticated for a in now] == [False, True, True]
    assert now[1].has_role(Role.EVENT_MANAGEMENT, None) and now[2].session_id is None
    assert not actors[1].has_role(Role.EVENT_MANAGEMENT, None)

    await revoke_token(actor=boss, token_id=token.id)
    assert [a.authenticated for a in await revocation.current_actors(actors)] == [
        False, True, False]
    await update_user(actor=boss, user_id=member.id, is_active=False)
    assert [a.authenticated for a in await revocation.current_actors(actors)] == [
        False, False, False]
