"""Posting a notice to an IM webhook and judging the answer as the provider reports it:
success is HTTP 200 *and* the provider's own code 0."""

from __future__ import annotations

import json
from typing import Any

import httpx

from models import ImDestination
from models.base import utcnow
from notifications.outcome import SENT, Outcome, failed, retry, retry_after_seconds
from notifications.registry import provider_for
from notifications.render import Notice

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


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


async def send(client: httpx.AsyncClient, notice: Notice, destination: ImDestination
               ) -> Outcome:
    """Post one notice to one destination."""
    provider = provider_for(destination.provider)
    url, body = provider.request(notice, destination, utcnow())
    try:
        response = await client.post(url, json=body, timeout=TIMEOUT)
    except httpx.TimeoutException as exc:
        return retry(f"timed out: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return retry(f"could not reach the webhook: {type(exc).__name__}: {exc}")
    return provider.judge(response)
