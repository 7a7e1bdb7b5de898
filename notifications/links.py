"""Signed links in mails: confirmation tokens (random, stored hashed) and manage/unsubscribe
tokens (signed with SECRET_KEY, so they work without cookies or a lookup table)."""

from __future__ import annotations

import hashlib
import secrets

from itsdangerous import BadSignature, URLSafeSerializer

from resolvers import domains
from settings import get_settings

_MANAGE = "heliograph.subscription.manage"
_UNSUBSCRIBE = "heliograph.subscription.unsubscribe"


def new_confirm_token() -> tuple[str, str]:
    """A single-use confirmation token and the SHA-256 hash that is stored instead of it."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt=salt)


def manage_token(subscriber_id: str) -> str:
    return str(_serializer(_MANAGE).dumps(subscriber_id))


def unsubscribe_token(subscriber_id: str) -> str:
    return str(_serializer(_UNSUBSCRIBE).dumps(subscriber_id))


def _loads(salt: str, token: str) -> str | None:
    try:
        value = _serializer(salt).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def subscriber_from_manage_token(token: str) -> str | None:
    """The subscriber id a manage token was signed for, or None when forged."""
    return _loads(_MANAGE, token)


def subscriber_from_unsubscribe_token(token: str) -> str | None:
    """The subscriber id an unsubscribe token was signed for, or None when forged."""
    return _loads(_UNSUBSCRIBE, token)


def base_url(page_slug: str | None = None) -> str:
    """Where a page's subscribers are sent: its first custom domain (as its root), else
    BASE_URL. The page's domains must have been read (`resolvers.domains.refresh`)."""
    if page_slug is not None:
        root = domains.page_root(page_slug)
        if not root.startswith(get_settings().base_url + "/p/"):
            return root
    return get_settings().base_url


def confirm_url(token: str, page_slug: str | None = None) -> str:
    return f"{base_url(page_slug)}/subscriptions/confirm/{token}"


def manage_url(subscriber_id: str, page_slug: str | None = None) -> str:
    return f"{base_url(page_slug)}/subscriptions/manage/{manage_token(subscriber_id)}"


def unsubscribe_url(subscriber_id: str, page_slug: str | None = None) -> str:
    return (f"{base_url(page_slug)}/subscriptions/unsubscribe/"
            f"{unsubscribe_token(subscriber_id)}")


def event_url(page_slug: str, event_id: str) -> str:
    return f"{domains.page_root(page_slug)}/events/{event_id}"


def page_url(page_slug: str) -> str:
    return domains.page_root(page_slug)
