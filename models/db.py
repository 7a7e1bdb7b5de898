"""The tortoise configuration, connection set-up and migrations."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations.api import migrate as migrate_api

from models import MODEL_MODULES

APP = "heliograph"


def tortoise_config(database_url: str) -> dict[str, Any]:
    """One app, `heliograph`, whose migrations live in the top-level `migrations` package."""
    if database_url.startswith("postgres"):
        # asyncpg's default pool of 5 starves several concurrent request handlers.
        sep = "&" if "?" in database_url else "?"
        if "maxsize=" not in database_url:
            database_url = f"{database_url}{sep}minsize=1&maxsize=20"
    return {
        "connections": {"default": database_url},
        "apps": {
            APP: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_db(database_url: str) -> None:
    """Open connections; the global fallback makes them visible to every task."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str) -> None:
    """Apply every pending migration (SQLite and PostgreSQL alike)."""
    await migrate_api(config=tortoise_config(database_url))
    await Tortoise.close_connections()


async def serialise(conn: BaseDBAsyncClient, name: str) -> None:
    """Make transactions that call this with the same `name` run one after the other (a
    check-then-insert such as a limit then holds under concurrent requests). PostgreSQL: a
    transaction-scoped advisory lock. SQLite: nothing to do, a transaction already holds the
    one connection (other writers wait for it)."""
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query("SELECT pg_advisory_xact_lock(hashtext($1))", [name])
