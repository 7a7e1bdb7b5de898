"""Browser sessions: sign in (argon2, throttled), the session behind a cookie, sign out.

The cookie carries a random secret signed with SECRET_KEY; the database keeps only its SHA-256,
so a database leak yields no usable session. Every sign-in creates a new session (and ends the
one presented with the request), so a session id planted before sign-in is never promoted."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypedDict

from itsdangerous import BadSignature, Signer
from tortoise.transactions import in_transaction

from models import Session, SignInAttempt, User
from models.base import utcnow
from resolvers import audit, revocation
from resolvers.account import hash_password, normalise_email, sha256, verify_password
from resolvers.auth import ANONYMOUS, Actor, load_actor
from resolvers.errors import FORBIDDEN, RATE_LIMITED, UNAUTHENTICATED, DomainError, invalid
from settings import get_settings

SESSION_LIFETIME = timedelta(days=14)
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 30
PASSWORD_INPUT_MAX = 1024
# last_seen_at is informational; writing it once a minute keeps requests read-only.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
_WRONG = "The email address or password is incorrect"
_dummy: list[str] = []


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie value (shown to the browser only) and its user."""

    cookie: str
    session: Session
    user: User


def _dummy_hash() -> str:
    """Verified against when the address is unknown, so both answers take the same time."""
    if not _dummy:
        _dummy.append(hash_password(secrets.token_urlsafe(16)))
    return _dummy[0]


def _signer() -> Signer:
    return Signer(get_settings().secret_key, salt="heliograph.session")


def _secret_of(cookie: str) -> str | None:
    try:
        return _signer().unsign(cookie.encode()).decode()
    except (BadSignature, UnicodeDecodeError):
        return None


async def _throttled(email: str, ip: str) -> bool:
    since = utcnow() - THROTTLE_WINDOW
    if await SignInAttempt.filter(email=email, at__gte=since).count() >= MAX_FAILURES_PER_EMAIL:
        return True
    return bool(ip) and (
        await SignInAttempt.filter(ip=ip, at__gte=since).count() >= MAX_FAILURES_PER_IP
    )


async def sign_in(*, email: str, password: str, ip: str = "",
                  previous_cookie: str | None = None, local_passwords: str = "on") -> SignedIn:
    """Check the password and open a new session; RATE_LIMITED after repeated failures.

    `local_passwords` is the LOCAL_PASSWORDS setting: `admins` lets only administrators in
    with a password, `off` nobody."""
    if local_passwords == "off":
        raise DomainError(FORBIDDEN, "Password sign-in is turned off here: use single sign-on")
    if not email or not password:
        raise invalid("Enter your email address and password")
    try:
        email = normalise_email(email)
    except DomainError:
        raise DomainError(UNAUTHENTICATED, _WRONG) from None
    ip = ip[:64]
    if await _throttled(email, ip):
        raise DomainError(RATE_LIMITED, "Too many failed sign-ins: wait a few minutes and try "
                                        "again")
    user = await User.filter(email=email).first()
    # A password too long to be real is refused without hashing it (argon2 on megabytes is a
    # denial of service); it still counts as a failure.
    candidate = password if len(password) <= PASSWORD_INPUT_MAX else None
    ok = verify_password(user.password_hash if user else _dummy_hash(), candidate or "")
    if candidate is None or user is None or not ok or not user.is_active:
        await SignInAttempt.create(email=email, ip=ip)
        # Attempts older than the window count for nothing: drop them so the table stays small.
        await SignInAttempt.filter(at__lt=utcnow() - THROTTLE_WINDOW).delete()
        raise DomainError(UNAUTHENTICATED, _WRONG)
    if local_passwords == "admins" and not user.is_admin:
        raise DomainError(FORBIDDEN, "Only administrators sign in with a password here: use "
                                     "single sign-on")
    return await open_session(user, ip=ip, previous_cookie=previous_cookie, method="password")


async def open_session(user: User, *, ip: str = "", previous_cookie: str | None = None,
                       method: str = "password") -> SignedIn:
    """A new session for a user whose credentials were checked (password or single sign-on);
    the session presented with the request, if any, ends."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    ended: list[tuple[str, str]] = []  # (user, session) of the session presented
    async with in_transaction() as conn:
        if previous_cookie:
            old = _secret_of(previous_cookie)
            if old:
                previous = Session.filter(token_hash=sha256(old)).using_db(conn)
                ended = [(str(u), str(s)) for u, s in
                         await previous.values_list("user_id", "id")]
                await previous.delete()
        session = await Session.create(user_id=user.id, token_hash=sha256(secret),
                                       created_at=now, last_seen_at=now,
                                       expires_at=now + SESSION_LIFETIME, using_db=conn)
        await SignInAttempt.filter(email=user.email).using_db(conn).delete()
        await audit.record(Actor(user=user), "session.create", target_type="session",
                           target_id=session.id, detail={"ip": ip[:64], "method": method},
                           conn=conn)
    for user_id, session_id in ended:
        await revocation.announce(revocation.SESSION_ENDED, user_id, session_id)
    cookie = _signer().sign(secret.encode()).decode()
    return SignedIn(cookie=cookie, session=session, user=user)


async def actor_for_session(cookie: str) -> Actor:
    """The actor a session cookie stands for; ANONYMOUS if forged, unknown or expired."""
    secret = _secret_of(cookie)
    if secret is None:
        return ANONYMOUS
    hashed = sha256(secret)
    session = await Session.filter(token_hash=hashed).select_related("user").first()
    if session is None or not hmac.compare_digest(session.token_hash, hashed):
        return ANONYMOUS
    now = utcnow()
    if session.expires_at <= now:
        await Session.filter(id=session.id).delete()
        return ANONYMOUS
    if now - session.last_seen_at > LAST_SEEN_RESOLUTION:
        await Session.filter(id=session.id).update(last_seen_at=now)
    return await load_actor(session.user, via="session", session_id=session.id)


async def sign_out(*, actor: Actor, everywhere: bool = False) -> int:
    """End the actor's session (or all their sessions); returns how many ended."""
    if actor.user is None:
        raise DomainError(UNAUTHENTICATED, "You are not signed in")
    if everywhere:
        query = Session.filter(user_id=actor.user.id)
    elif actor.session_id is not None:
        query = Session.filter(id=actor.session_id)
    else:
        raise invalid("An API token has no session: revoke the token instead, or sign out "
                      "everywhere")
    async with in_transaction() as conn:
        ended = await query.using_db(conn).delete()
        await audit.record(actor, "session.end", target_type="user", target_id=actor.user.id,
                           detail={"everywhere": everywhere, "ended": ended}, conn=conn)
    if everywhere:
        await revocation.announce(revocation.SESSIONS_ENDED, actor.user.id)
    else:
        await revocation.announce(revocation.SESSION_ENDED, actor.user.id, actor.session_id)
    return int(ended)


async def end_sessions(user_id: str) -> int:
    """End every session of a user (deactivation)."""
    ended = int(await Session.filter(user_id=user_id).delete())
    await revocation.announce(revocation.SESSIONS_ENDED, user_id)
    return ended


COOKIE_NAME = "heliograph_session"


class CookieOptions(TypedDict):
    httponly: bool
    samesite: Literal["lax"]
    secure: bool
    path: str
    max_age: int


def cookie_options() -> CookieOptions:
    """How the session cookie is set: HTTP-only, SameSite=Lax, Secure behind https."""
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": get_settings().base_url.startswith("https://"),
        "path": "/",
        "max_age": int(SESSION_LIFETIME.total_seconds()),
    }
