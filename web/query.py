"""Run GraphQL documents in-process with the visitor's actor: HTML pages read through the same
API as tools, so every visibility rule holds here too."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from resolvers.auth import Actor
from schema import build_schema, unexpected
from schema.context import Context
from web.auth import actor_from_request

log = logging.getLogger("heliograph.web")


@dataclass
class Answer:
    data: dict[str, Any] | None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.data is not None


async def actor_of(request: Request) -> Actor:
    """The visitor, computed once per request."""
    if "actor" not in request.state._state:
        request.state.actor = await actor_from_request(request)
    actor: Actor = request.state.actor
    return actor


class Unreadable(Exception):
    """A page's query failed (the database cannot be read, or a bug): not an answer to show."""


async def run(request: Request, document: str, variables: dict[str, Any] | None = None,
              *, actor: Actor | None = None, strict: bool = False) -> Answer:
    """Execute `document`; errors are logged and returned, never raised — except, when
    `strict`, a failure (not a refusal): a page would otherwise show "nothing" for it."""
    actor = actor if actor is not None else await actor_of(request)
    settings = request.app.state.settings
    result = await build_schema(settings.production).execute(
        document, variable_values=variables or {},
        context_value=Context(request=request, actor=actor),
    )
    if strict:
        failed = [e for e in result.errors or [] if unexpected(e)]
        if failed:
            raise Unreadable(failed[0].message) from failed[0].original_error
    errors = [str(e.message) for e in result.errors or []]
    if errors:
        log.info("page query answered with errors: %s", errors)
    return Answer(data=result.data, errors=errors)
