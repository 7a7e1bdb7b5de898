"""Sessions at the resolver level: expiry, throttling per address and per IP, forged cookies."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from models import AuditEntry, Session, SignInAttempt
from models.base import utcnow
from resolvers import session
from resolvers.account import create_user
from resolvers.errors import DomainError

PASSWORD = "long enough pw"


@pytest.fixture
async def user(db: str) -> object:
    return await create_user(email="ses@example.com", password=PASSWORD)


async def test_a_session_stands_for_its_user_until_it_expires(user: object) -> None:
    signed = await session.sign_in(email="ses@example.com", password=PASSWORD, ip="10.0.0.1")
    actor = await session.actor_for_session(signed.cookie)
    assert actor.user is not None and actor.user.email == "ses@example.com"
    assert actor.via == "session" and actor.session_id == signed.session.id
    assert await AuditEntry.filter(action="session.create").count() == 1
    await Session.filter(id=signed.session.id).update(expires_at=utcnow() - timedelta(seconds=1))
    assert (await session.actor_for_session(signed.cookie)).user is None
    assert await Session.all().count() == 0  # an expired session is removed when seen


@pytest.mark.parametrize("cookie", ["", "garbage", "a.b", "x" * 5000, "é.ü"])
async def test_forged_cookies_are_anonymous(user: object, cookie: str) -> None:
    await session.sign_in(email="ses@example.com", password=PASSWORD)
    assert (await session.actor_for_session(cookie)).user is None


async def test_a_cookie_signed_with_another_key_is_refused(user: object) -> None:
    from itsdangerous import Signer

    signed = await session.sign_in(email="ses@example.com", password=PASSWORD)
    secret = signed.cookie.rsplit(".", 1)[0]
    forged = Signer("another-secret-key-of-some-length", salt="heliograph.session").sign(
        secret.encode()).decode()
    assert (await session.actor_for_session(forged)).user is None


async def test_failures_are_throttled_per_address(user: object) -> None:
    for _ in range(session.MAX_FAILURES_PER_EMAIL):
        with pytest.raises(DomainError) as wrong:
            await session.sign_in(email="ses@example.com", password="nope nope", ip="10.0.0.2")
        assert wrong.value.code == "UNAUTHENTICATED"
    with pytest.raises(DomainError) as limited:
        await session.sign_in(email="ses@example.com", password=PASSWORD, ip="10.0.0.3")
    assert limited.value.code == "RATE_LIMITED"
    # Old failures fall out of the window.
    await SignInAttempt.all().update(at=utcnow() - session.THROTTLE_WINDOW - timedelta(1))
    assert (await session.sign_in(email="ses@example.com", password=PASSWORD)).user
    await SignInAttempt.create(email="x@example.com", at=utcnow() - timedelta(days=1))
    with pytest.raises(DomainError):
        await session.sign_in(email="ses@example.com", password="nope nope")
    assert await SignInAttempt.all().count() == 1  # stale attempts are pruned


async def test_failures_are_throttled_per_ip(user: object) -> None:
    for i in range(session.MAX_FAILURES_PER_IP):
        await SignInAttempt.create(email=f"other{i}@example.com", ip="10.9.9.9")
    with pytest.raises(DomainError) as limited:
        await session.sign_in(email="ses@example.com", password=PASSWORD, ip="10.9.9.9")
    assert limited.value.code == "RATE_LIMITED"
    assert (await session.sign_in(email="ses@example.com", password=PASSWORD,
                                  ip="10.1.1.1")).user


async def test_a_huge_password_is_refused_without_hashing(user: object) -> None:
    started = time.monotonic()
    with pytest.raises(DomainError) as wrong:
        await session.sign_in(email="ses@example.com", password="p" * 5_000_000)
    assert wrong.value.code == "UNAUTHENTICATED"
    assert time.monotonic() - started < 10  # liveness only: argon2 never saw 5 MB
    assert await SignInAttempt.all().count() == 1


async def test_signing_in_again_ends_the_presented_session(user: object) -> None:
    first = await session.sign_in(email="ses@example.com", password=PASSWORD)
    second = await session.sign_in(email="ses@example.com", password=PASSWORD,
                                   previous_cookie=first.cookie)
    assert second.cookie != first.cookie
    assert (await session.actor_for_session(first.cookie)).user is None
    assert (await session.actor_for_session(second.cookie)).user is not None
    assert await Session.all().count() == 1
