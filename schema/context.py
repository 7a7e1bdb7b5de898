"""The typed per-request context: the actor, per-request data loaders, the request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from resolvers.auth import ANONYMOUS, Actor
from schema.loaders import Loaders

if TYPE_CHECKING:
    from schema.subscriber import SubscriberType


@dataclass
class Context:
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    actor: Actor = ANONYMOUS
    # Created on first use: a websocket connection's context lives as long as the socket,
    # and each live message executes with a copy holding its page state's loaders. What does
    # not depend on the actor goes there (the event loaders: `loaders.events`); what does, here.
    _loaders: Loaders | None = None
    # The graphql-transport-ws `connection_init` payload (strawberry fills it when declared).
    connection_params: dict[str, Any] | None = None
    # The actor's IM subscriptions by destination id, loaded once per request by the first
    # `ImDestination.subscriptions` field that asks (schema.subscriber).
    im_subscriptions: asyncio.Future[dict[str, list[SubscriberType]]] | None = None
    # Availability (schema.availability). `json_fragments`: the answer is encoded by
    # schema.plain_rows.encode_json, so kept rows may stand in it pre-encoded (HTTP only).
    json_fragments: bool = False

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders()
        return self._loaders

    @loaders.setter
    def loaders(self, loaders: Loaders) -> None:
        self._loaders = loaders


Info = strawberry.Info[Context, None]
