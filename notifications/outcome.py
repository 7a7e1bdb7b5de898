"""What an endpoint said about one message: sent, retry later (transient), or failed for good."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

from models.base import utcnow


@dataclass(frozen=True)
class Outcome:
    kind: Literal["sent", "retry", "failed"]
    reason: str = ""
    # Seconds the endpoint asked us to wait (HTTP Retry-After, throttling codes).
    retry_after: float | None = None


SENT = Outcome("sent")


def retry(reason: str, after: float | None = None) -> Outcome:
    return Outcome("retry", reason[:1000], after)


def failed(reason: str) -> Outcome:
    return Outcome("failed", reason[:1000])


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP Retry-After header (seconds or an HTTP date) in seconds, None when absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None
