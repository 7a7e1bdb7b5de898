"""Single sign-on: a sign-in begun at the OpenID Connect provider, finished once, and the
member it signs in (created at the first sign-in, with no role).

`begin` records the pending sign-in (state, nonce, PKCE verifier, tied to the browser by a
cookie secret) and gives the provider's URL. `finish` takes the pending sign-in away (so a
replayed state finds nothing), exchanges the code, verifies the ID token, admits the member by
email domain or group, maps groups to roles, and opens the same session as a password would."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import ALL_PAGES, OidcIdentity, OidcLogin, RoleAssignment, User
from models.base import utcnow
from models.enums import Role
from resolvers import audit, revocation, throttle
from resolvers.account import sha256
from resolvers.auth import Actor
from resolvers.oidc_client import OidcError, authorization_url, exchange_code
from resolvers.session import SignedIn, actor_for_session, open_session
from resolvers.validate import PLAIN_EMAIL_RE
from settings import OidcConfig

log = logging.getLogger("heliograph.oidc")
LOGIN_LIFETIME = timedelta(minutes=10)
NO_PASSWORD = "!sso"  # not an argon2 hash: no password ever matches it
NAME_MAX = 200
# Each start keeps a row for LOGIN_LIFETIME: a network may start this many per window.
STARTS_PER_NETWORK = 120
STARTS_WINDOW = 600
USED_OR_UNKNOWN = ("This sign-in link has already been used or is unknown. Start again from "
                   "the sign-in page.")


class Refused(Exception):
    """Why a sign-in is refused, in words for the person; `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Begun:
    url: str  # the provider's authorization URL
    browser_secret: str  # goes in a short-lived cookie; the pending sign-in keeps its hash


def redirect_uri(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/signin/oidc/callback"


async def begin(config: OidcConfig, base_url: str, next_path: str, ip: str = "") -> Begun:
    """Record a pending sign-in and give the provider's URL to send the browser to; Refused
    (429) when the client's network started too many in a few minutes."""
    async with in_transaction() as conn:
        if not await throttle.hit(throttle.Limit(f"oidc-start:{throttle.network(ip)}",
                                                 STARTS_PER_NETWORK, STARTS_WINDOW), conn):
            raise Refused("Too many sign-ins were started from your network: wait a few "
                          "minutes and try again.", 429)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier, browser = secrets.token_urlsafe(64), secrets.token_urlsafe(32)
    url = await authorization_url(config, redirect_uri(base_url), state=state, nonce=nonce,
                                  code_verifier=verifier)
    now = utcnow()
    async with in_transaction() as conn:
        await OidcLogin.filter(expires_at__lt=now).using_db(conn).delete()  # abandoned ones
        await OidcLogin.create(state_hash=sha256(state), browser_hash=sha256(browser),
                               nonce=nonce, code_verifier=verifier, next_path=next_path[:500],
                               expires_at=now + LOGIN_LIFETIME, using_db=conn)
    return Begun(url=url, browser_secret=browser)


async def _take_pending(state: str, browser_secret: str | None) -> OidcLogin:
    """The pending sign-in for `state`, removed so that it serves once."""
    login = await OidcLogin.filter(state_hash=sha256(state)).first()
    if login is None:
        raise Refused(USED_OR_UNKNOWN, 400)
    # The browser is checked before the pending sign-in is used up: a callback link replayed
    # elsewhere (a leaked state) must not cancel the sign-in of the browser that began it.
    if not browser_secret or not hmac.compare_digest(sha256(browser_secret),
                                                     login.browser_hash):
        raise Refused("This sign-in was started in another browser. Start again from the "
                      "sign-in page.", 400)
    if not await OidcLogin.filter(id=login.id).delete():
        raise Refused(USED_OR_UNKNOWN, 400)
    if login.expires_at <= utcnow():
        raise Refused("This sign-in took too long. Start again from the sign-in page.", 400)
    return login


def _groups(config: OidcConfig, claims: dict[str, Any]) -> set[str]:
    if not config.groups_claim:
        return set()
    value = claims.get(config.groups_claim)
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {g for g in value if isinstance(g, str)}
    return set()


def _email(claims: dict[str, Any]) -> tuple[str, bool]:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise Refused("The provider did not share your email address, so you cannot be signed "
                      "in. Ask your administrator to include the email scope.")
    # One plain ASCII address, checked before lower-casing: Unicode case folding turns some
    # letters into ASCII ones ("\u212a" KELVIN SIGN into "k"), which would name another
    # person's account or an allowed domain.
    email = email.strip()
    if not email.isascii() or not PLAIN_EMAIL_RE.match(email):
        raise Refused("The provider shared an email address this site cannot use (one plain "
                      "address, ASCII only). Ask your administrator.")
    return email.lower(), claims.get("email_verified") is True


def admitted(config: OidcConfig, email: str, verified: bool, groups: set[str]) -> bool:
    """A verified email in an allowed domain, or membership of an allowed group."""
    domain = email.rpartition("@")[2]
    if verified and domain in config.allowed_domains:
        return True
    return bool(groups & set(config.allowed_groups))


async def finish(config: OidcConfig, base_url: str, *, state: str, code: str,
                 browser_secret: str | None, ip: str = "",
                 previous_cookie: str | None = None) -> tuple[SignedIn, str]:
    """Finish a sign-in; returns the new session and the path to go to. Raises Refused."""
    if not state or not code:
        raise Refused("The provider's answer is incomplete. Start again from the sign-in page.",
                      400)
    login = await _take_pending(state, browser_secret)
    try:
        token = await exchange_code(config, redirect_uri(base_url), code=code,
                                    code_verifier=login.code_verifier, nonce=login.nonce)
    except OidcError as exc:
        log.warning("single sign-on refused: %s", exc)
        raise Refused(f"The sign-in could not be verified ({exc}). Start again from the "
                      "sign-in page.", 400) from None
    claims = token.claims
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise Refused("The provider's answer names no account.", 400)
    email, verified = _email(claims)
    groups = _groups(config, claims)
    if not admitted(config, email, verified, groups):
        if claims.get("email_verified") is False and \
                email.rpartition("@")[2] in config.allowed_domains:
            raise Refused(f"Your email address {email} is not verified at the provider, so "
                          "it cannot admit you here.")
        raise Refused(f"{email} may not sign in here: this site admits members of its "
                      "organisation only. Ask your administrator if you think this is wrong.")
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    signed_in = (await actor_for_session(previous_cookie)).user_id if previous_cookie else None
    user, changed = await _member(config, subject=subject, email=email, verified=verified,
                                  name=str(name)[:NAME_MAX], groups=groups,
                                  signed_in_as=signed_in,
                                  disowned=claims.get("email_verified") is False)
    if not user.is_active:
        raise Refused("Your account here has been deactivated. Ask your administrator.")
    if changed:
        await revocation.announce(revocation.ROLES_CHANGED, user.id)
    signed = await open_session(user, ip=ip, previous_cookie=previous_cookie, method="oidc")
    return signed, login.next_path


def _mapped(config: OidcConfig, groups: set[str]) -> tuple[bool | None, set[Role], set[Role]]:
    """(is_admin to set or None, roles to hold, roles the map governs)."""
    governed = {Role(r) for _, r in config.role_map if r != "ADMIN"}
    held = {Role(r) for g, r in config.role_map if r != "ADMIN" and g in groups}
    admin: bool | None = None
    if any(r == "ADMIN" for _, r in config.role_map):
        admin = any(r == "ADMIN" and g in groups for g, r in config.role_map)
    return admin, held, governed


async def _check_new_identity(config: OidcConfig, user: User | None, email: str, *,
                              verified: bool, signed_in_as: str | None, disowned: bool,
                              conn: Any) -> None:
    """Refused unless a new provider identity may join `user` (the account with its email)
    or, when there is none, name a new account."""
    if user is None:
        if disowned:
            raise Refused(f"Your email address {email} is not verified at the provider: "
                          "verify it there, then sign in again.")
        return
    # A new identity joins the account with its email only when the provider verified the
    # address, and an administrator's account only when the browser finishing the sign-in is
    # already signed in as that administrator (an address at the provider must not be enough
    # to become an administrator here).
    if user.is_admin and verified and user.id != signed_in_as:
        raise Refused(f"{email} is an administrator's account here: to use single sign-on "
                      "with it, sign in with its password first, then choose the single "
                      "sign-on button.")
    if not verified or await OidcIdentity.filter(
            user_id=user.id, issuer=config.issuer).using_db(conn).exists():
        raise Refused(f"An account for {email} already exists here and cannot be joined to "
                      "this sign-in. Ask your administrator.")


async def _member(config: OidcConfig, *, subject: str, email: str, verified: bool, name: str,
                  groups: set[str], signed_in_as: str | None = None,
                  disowned: bool = False) -> tuple[User, bool]:
    """The user behind (issuer, subject): found, linked to a local account with the same
    verified email (`_check_new_identity`), or created without roles; then the role map applied.
    Returns whether roles changed. `disowned`: the provider said `email_verified: false`;
    such an address never names a new account (someone else's address, claimed at the
    provider, would hold that person's place here)."""
    admin, held, governed = _mapped(config, groups)
    async with in_transaction() as conn:
        identity = await OidcIdentity.filter(issuer=config.issuer, subject=subject) \
            .using_db(conn).select_related("user").first()
        created = False
        user: User | None
        if identity is not None:
            user = identity.user
            await OidcIdentity.filter(id=identity.id).using_db(conn).update(
                last_sign_in_at=utcnow(), email_verified=verified and email == user.email)
        else:
            user = await User.filter(email=email).using_db(conn).first()
            await _check_new_identity(config, user, email, verified=verified,
                                      signed_in_as=signed_in_as, disowned=disowned, conn=conn)
            if user is None:
                try:
                    user = await User.create(email=email, name=name, password_hash=NO_PASSWORD,
                                             using_db=conn)
                except IntegrityError:
                    raise Refused("This account was just created by another sign-in: try "
                                  "again.", 409) from None
                created = True
            await OidcIdentity.create(user_id=user.id, issuer=config.issuer, subject=subject,
                                      email_verified=verified, using_db=conn)
        assert user is not None
        changed = False
        if user.is_active:
            changed = await _apply_roles(user, admin, held, governed, conn)
        if created:
            await audit.record(Actor(user=user), "user.create", target_type="user",
                               target_id=user.id, detail={"via": "oidc", "email": email},
                               conn=conn)
        elif identity is None:
            await audit.record(Actor(user=user), "user.link", target_type="user",
                               target_id=user.id, detail={"via": "oidc"}, conn=conn)
    return user, changed


async def _apply_roles(user: User, admin: bool | None, held: set[Role], governed: set[Role],
                       conn: Any) -> bool:
    changed = False
    if admin is not None and user.is_admin != admin:
        await User.filter(id=user.id).using_db(conn).update(is_admin=admin)
        user.is_admin = admin
        changed = True
    current = {Role(r) for r in await RoleAssignment.filter(
        user_id=user.id, scope=ALL_PAGES).using_db(conn).values_list("role", flat=True)}
    for role in (held - current):
        await RoleAssignment.create(user_id=user.id, scope=ALL_PAGES, role=role, using_db=conn)
        changed = True
    gone = (governed - held) & current
    if gone:
        await RoleAssignment.filter(user_id=user.id, scope=ALL_PAGES,
                                    role__in=list(gone)).using_db(conn).delete()
        changed = True
    if changed:
        await audit.record(Actor(user=user), "role.sync", target_type="user", target_id=user.id,
                           detail={"via": "oidc", "admin": user.is_admin,
                                   "roles": sorted(r.value for r in held)}, conn=conn)
    return changed
