"""Test set-up: one database per pytest process (SQLite by default, PostgreSQL when
HELIOGRAPH_TEST_DATABASE_URL is set), migrated once, emptied before each test.

The environment is set before any application module is imported (settings are read once)."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest

TEST_DB = os.environ.get("HELIOGRAPH_TEST_DATABASE_URL", "")
TEST_REDIS = os.environ.get("HELIOGRAPH_TEST_REDIS_URL", "")
DIALECT = "postgres" if TEST_DB else "sqlite"
VAR_DIR = Path(tempfile.mkdtemp(prefix="heliograph-test-"))
PG_NAME = f"heliograph_test_{secrets.token_hex(4)}"


def _pg_url(name: str) -> str:
    parsed = urlparse(TEST_DB.replace("postgresql://", "postgres://", 1))
    return urlunparse(parsed._replace(path=f"/{name}"))


DATABASE_URL = _pg_url(PG_NAME) if TEST_DB else f"sqlite://{VAR_DIR / 'test.sqlite3'}"

os.environ.update(
    {
        "HELIOGRAPH_ENV": "test",
        "VAR_DIR": str(VAR_DIR),
        "DATABASE_URL": DATABASE_URL,
        "BROADCAST_URL": TEST_REDIS or "memory://",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "EMBEDDED_WORKER": "false",
        "BASE_URL": "http://testserver",
    }
)
for _name in ("SMTP_URL", "DEFAULT_PAGE", "ALLOWED_ORIGINS", "MAX_PUBLIC_PAGES",
              "MAX_INTERNAL_PAGES", "GRAPHIQL"):
    os.environ.pop(_name, None)

from settings import get_settings, reset_settings  # noqa: E402

reset_settings()

_passed: dict[str, int] = {"all": 0, "postgres": 0, "redis": 0}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if DIALECT == "postgres":
            item.add_marker(pytest.mark.postgres)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _passed["all"] += 1
        if "postgres" in report.keywords and DIALECT == "postgres":
            _passed["postgres"] += 1
        if "redis" in report.keywords and TEST_REDIS:
            _passed["redis"] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(
        f"HELIOGRAPH-PASS dialect={DIALECT} passed={_passed['all']} "
        f"postgres_passed={_passed['postgres']} redis_passed={_passed['redis']}"
    )


async def _create_pg_database() -> None:
    import asyncpg

    admin = await asyncpg.connect(_pg_url("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{PG_NAME}"')
    finally:
        await admin.close()


async def _drop_pg_database() -> None:
    import asyncpg

    admin = await asyncpg.connect(_pg_url("postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    """The migrated test database, connected for the whole session."""
    from models.db import close_db, init_db, migrate

    if DIALECT == "postgres":
        await _create_pg_database()
    await migrate(DATABASE_URL)
    await init_db(DATABASE_URL)
    try:
        yield DATABASE_URL
    finally:
        await close_db()
        if DIALECT == "postgres":
            await _drop_pg_database()


async def empty_all_tables() -> None:
    from tortoise import Tortoise, connections

    conn = connections.get("default")
    tables = [m._meta.db_table for m in Tortoise.apps["heliograph"].values()]
    if DIALECT == "postgres":
        await conn.execute_script("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    else:
        await conn.execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f'DELETE FROM "{t}";' for t in tables)
            + "PRAGMA foreign_keys=ON;"
        )


@pytest.fixture
async def db(database: str) -> AsyncIterator[str]:
    """An empty database for this test (and no page remembered from an earlier one)."""
    from resolvers import domains

    await empty_all_tables()
    if TEST_REDIS:  # the last good state shared between processes (web/stale_shared.py)
        import redis.asyncio as aioredis

        shared = aioredis.from_url(TEST_REDIS)
        async for key in shared.scan_iter("heliograph:lastgood:*"):
            await shared.delete(key)
        await shared.aclose()
    # Page domains are remembered per process: a test's pages must not meet an earlier test's
    # (the read caches need no reset: each test's app makes its own, web/appstate.py).
    domains.clear()
    yield database


@pytest.fixture
async def app(db: str) -> AsyncIterator[Any]:
    """The ASGI app with its lifespan running (database connections are the test's)."""
    from web.app import create_app
    from web.appstate import app_state

    application = create_app(get_settings(), manage_database=False)
    async with application.router.lifespan_context(application):
        yield application
        await app_state(application).read_cache.idle()  # renders a test started finish here


@pytest.fixture
def shared(app: Any) -> Any:
    """The test app's shared objects (web.appstate.AppState): its caches, new for each app."""
    from web.appstate import app_state

    return app_state(app)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def admin(db: str) -> Any:
    from resolvers.account import create_user

    return await create_user(email="admin@example.com", password="correct horse", is_admin=True)


@pytest.fixture
async def admin_token(admin: Any) -> str:
    from resolvers.account import issue_token

    secret, _ = await issue_token(user=admin, name="tests")
    return secret


class GraphQLClient:
    """POSTs GraphQL documents to the app like any tool would."""

    def __init__(self, http: Any, token: str | None = None) -> None:
        self.http = http
        self.token = token

    async def __call__(self, query: str, variables: dict[str, Any] | None = None,
                       token: str | None = None, expect_errors: bool = False) -> dict[str, Any]:
        headers = {"content-type": "application/json"}
        bearer = token if token is not None else self.token
        if bearer:
            headers["authorization"] = f"Bearer {bearer}"
        response = await self.http.post("/graphql", json={"query": query,
                                                          "variables": variables or {}},
                                        headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if not expect_errors:
            assert "errors" not in body, body["errors"]
        return body


@pytest.fixture
def gql(client: Any, admin_token: str) -> GraphQLClient:
    """A GraphQL client authenticated as an administrator (pass token="" for anonymous)."""
    return GraphQLClient(client, admin_token)
