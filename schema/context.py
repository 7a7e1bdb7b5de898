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
    # Created on first use: a websocket connection's context lives as long as the socket,
    # and each live message executes with a copy holding its page state's loaders.
    _loaders: Loaders | None = None
    # The graphql-transport-ws `connection_init` payload (strawberry fills it when declared).
    connection_params: dict[str, Any] | None = None
    # Free slot for interfaces (e.g. the web layer's cookie to set after signIn).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders()
        return self._loaders

    @loaders.setter
    def loaders(self, loaders: Loaders) -> None:
        self._loaders = loaders


Info = strawberry.Info[Context, None]
