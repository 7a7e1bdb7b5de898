"""Opaque random identifiers and timestamps shared by every model."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from tortoise import fields

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id() -> str:
    """A random 20-character id (100 bits): opaque, so counts of rows never leak."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(20))


def utcnow() -> datetime:
    return datetime.now(UTC)


def id_field() -> fields.CharField:
    return fields.CharField(max_length=20, primary_key=True, default=new_id)
