"""schemathesis against the live `/graphql` of a real server: generated queries and mutations,
anonymous and as an administrator, find no server error and no unmasked exception."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from resolvers.account import create_user, issue_token
from tests.helpers.server import running_server

EXAMPLES_PER_OPERATION = 3
TIME_BUDGET_SECONDS = 60
# What an unmasked exception looks like in a response body.
LEAKS = re.compile(r"Traceback \(most recent call last\)|File \"/|\w+Error: |tortoise|asyncpg|"
                   r"sqlite3|NotImplementedError")


def _fuzz(base: str, headers: dict[str, str], found: list[str], masked: list[str]) -> int:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.graphql.from_url(f"{base}/graphql")
    calls = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), derandomize=True)
        def run(case: Any) -> None:
            nonlocal calls
            response = case.call(base_url=base, headers=headers, timeout=20)
            calls += 1
            where = f"{label}: {case.body!r:.300}"  # noqa: B023 (run() is called right here)
            if response.status_code >= 500:
                found.append(f"{response.status_code} for {where}")
            if LEAKS.search(response.text):
                found.append(f"unmasked text {response.text[:300]!r} for {where}")
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                for error in body.get("errors") or []:
                    if (error.get("extensions") or {}).get("code") == "INTERNAL":
                        assert error["message"] == "Unexpected error."
                        masked.append(where)

        run()
        assert time.monotonic() - started < TIME_BUDGET_SECONDS * 2, "fuzzing overran"
    return calls


@pytest.mark.onepass
@pytest.mark.e2e
async def test_generated_requests_find_no_server_error(db: str) -> None:
    admin = await create_user(email="fuzz-admin@example.com", password="long enough pw",
                              is_admin=True)
    token, _ = await issue_token(user=admin, name="fuzz")
    found: list[str] = []
    masked: list[str] = []
    started = time.monotonic()
    with running_server() as base:
        anonymous = await asyncio.to_thread(_fuzz, base, {}, found, masked)
        signed_in = await asyncio.to_thread(
            _fuzz, base, {"authorization": f"Bearer {token}"}, found, masked)
    elapsed = time.monotonic() - started
    assert anonymous > 50 and signed_in > 50
    assert found == [], "\n".join(found[:20])
    assert masked == [], "masked (unexpected) errors:\n" + "\n".join(masked[:20])
    print(f"schemathesis: {anonymous + signed_in} requests in {elapsed:.1f}s")
