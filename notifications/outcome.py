"""What an endpoint said about one message: sent, retry later (transient), or failed for good;
and how an HTTP answer (status, then the provider's own code) is judged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

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


def judge_http(response: httpx.Response) -> Outcome | None:
    """The verdict from the HTTP status alone, or None when the body must decide."""
    status = response.status_code
    if status == 429:
        return retry(f"HTTP 429 (rate limited): {response.text[:200]}",
                     retry_after_seconds(response.headers.get("retry-after")))
    if status >= 500 or status == 408:
        return retry(f"HTTP {status}: {response.text[:200]}")
    if status != 200:
        return failed(f"HTTP {status}: {response.text[:200]}")
    return None


def judge_code(response: httpx.Response, keys: tuple[str, ...],
               throttling: frozenset[int]) -> Outcome:
    """HTTP 200 with a JSON body whose code (first of `keys` present) is 0."""
    verdict = judge_http(response)
    if verdict is not None:
        return verdict
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return failed(f"HTTP 200 without a JSON answer: {response.text[:200]}")
    if not isinstance(body, dict):
        return failed(f"HTTP 200 with an unexpected answer: {response.text[:200]}")
    code = next((body[k] for k in keys if k in body), None)
    message = body.get("errmsg") or body.get("msg") or body.get("StatusMessage") or ""
    if not isinstance(code, int):
        return failed(f"HTTP 200 without {keys[0]}: {response.text[:200]}")
    if code == 0:
        return SENT
    if code in throttling:
        return retry(f"throttled by the provider ({code}: {message})", 60.0)
    return failed(f"{keys[0]} {code}: {message}")
