"""The typed per-request context: the actor, per-request data loaders, the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from resolvers.auth import ANONYMOUS, Actor
from schema.loaders import Loaders


@dataclass
class Context:
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    actor: Actor = ANONYMOUS
    loaders: Loaders = field(default_factory=Loaders)
    # The graphql-transport-ws `connection_init` payload (strawberry fills it when declared).
    connection_params: dict[str, Any] | None = None
    # Free slot for interfaces (e.g. the web layer's cookie to set after signIn).
    extra: dict[str, Any] = field(default_factory=dict)


Info = strawberry.Info[Context, None]
