"""Input checks shared by the resolvers; each raises an INVALID DomainError naming the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from resolvers.errors import invalid

# One plain address a mail can go to: no spaces, quotes or angle brackets, a dotted domain.
PLAIN_EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
NAME_MAX = 200
TITLE_MAX = 300
DESCRIPTION_MAX = 5_000
MESSAGE_MAX = 20_000
_ZONES = frozenset(available_timezones())


def slug(value: str, field: str = "slug") -> str:
    value = value.strip()
    if not SLUG_RE.match(value):
        raise invalid(
            "A slug is 1–64 lower-case letters, digits and hyphens, not starting or ending "
            "with a hyphen",
            field,
        )
    return value


def text(value: str | None, field: str, *, maximum: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise invalid(f"{field} must not be empty", field)
    if len(value) > maximum:
        raise invalid(f"{field} must be at most {maximum} characters", field)
    if "\x00" in value:
        raise invalid(f"{field} must not contain NUL characters", field)
    return value


def name(value: str, field: str = "name") -> str:
    return text(value, field, maximum=NAME_MAX)


def description(value: str | None, field: str = "description") -> str:
    return text(value, field, maximum=DESCRIPTION_MAX, required=False)


def time_zone(value: str, field: str = "timeZone") -> str:
    value = value.strip()
    if value not in _ZONES:
        raise invalid(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)", field)
    ZoneInfo(value)
    return value


def language(value: str, field: str = "language") -> str:
    """A supported page language ("en", "zh-CN"), as stored."""
    import i18n

    found = i18n.canonical(value)
    if found is None:
        raise invalid(f"{value!r} is not a supported language (one of "
                      f"{', '.join(i18n.SUPPORTED)})", field)
    return found


def position(value: int | None, field: str = "position") -> int | None:
    if value is not None and not (0 <= value <= 1_000_000):
        raise invalid("position must be between 0 and 1000000", field)
    return value


def aware(value: datetime, field: str) -> datetime:
    """Naive datetimes are refused: a time without an offset is ambiguous."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise invalid(f"{field} needs a time zone offset (e.g. 2026-01-01T00:00:00Z)", field)
    return value.astimezone(UTC)


def local_words(moment: datetime, zone: str) -> str:
    """A time as people read it in a page's zone: "30 Nov 2026 21:08 CET" (for messages)."""
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment.astimezone(ZoneInfo("UTC"))
    return f"{local.day} {local:%b %Y %H:%M %Z}"


def normalise_email(value: str, field: str = "email", *, plain: bool = False) -> str:
    """The address stripped and lower-cased; INVALID unless it looks like an address, or with
    `plain` (addresses we will mail unasked: subscribers) unless it is one plain ASCII address.

    Accounts keep the looser check: a stricter one would lock out users whose addresses it
    once accepted, since sign-in normalises the address it looks up."""
    stripped = (value or "").strip()
    address = stripped.lower()
    if plain:
        # ASCII is checked before lower-casing: "\u212a" (Kelvin) lower-cases to an ASCII "k".
        if len(address) > 254 or not stripped.isascii() or not PLAIN_EMAIL_RE.match(address):
            raise invalid("Enter one email address, like name@example.com", field)
        return address
    local, _, domain = address.partition("@")
    if (not local or "." not in domain or len(address) > 254
            or any(c.isspace() for c in address) or domain.startswith(".")
            or domain.endswith(".")):
        raise invalid("Enter a valid email address", field)
    return address
