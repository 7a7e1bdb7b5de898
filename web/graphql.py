"""The GraphQL endpoint: HTTP and websocket on `/graphql`, with our typed context.

HTTP writes pass `web.security.GraphQLHttpGuard` first: JSON only, at most 100 KB, no batches,
and same-origin for cookie-authenticated requests. Queries over GET stay allowed (strawberry
refuses mutations over GET); introspection and GraphiQL are off in production. An answer
larger than `GRAPHQL_MAX_RESPONSE_BYTES` is replaced by one RESPONSE_TOO_LARGE error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from resolvers import domains
from schema import build_schema
from schema.context import Context
from schema.live import on_ws_connect as live_connection_init
from schema.plain_rows import encode_json
from settings import Settings
from web.appstate import AppState
from web.auth import actor_from_request
from web.errors import graphql_error
from web.graphql_cache import GraphQLCache
from web.live_auth import Sockets
from web.live_budget import BudgetedTransportWSHandler
from web.live_groups import Groups
from web.security import GraphQLHttpGuard

RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"


class HeliographGraphQL(GraphQL[Context, None]):
    # `pageUpdates` streams of the same kind share one execution and encoding per change; a
    # socket's and a page's live documents have budgets (web.live_budget).
    graphql_transport_ws_handler_class = BudgetedTransportWSHandler
    max_response_bytes = 10_000_000

    def __init__(self, schema: Any, *, sockets: Sockets, groups: Groups,
                 **options: Any) -> None:
        super().__init__(schema, **options)
        # The app's (web.appstate): LiveTransportWSHandler registers its socket with
        # `sockets` and its `pageUpdates` streams with `groups`.
        self.sockets, self.groups = sockets, groups

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Strawberry's refusals before execution (a body that is not JSON, no query, an
        unknown operationName) in GraphQL-shaped JSON rather than its plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            response = graphql_error(exc.status_code, exc.reason)
        await response(scope, receive, send)

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        """BASE_URL, ALLOWED_ORIGINS and every page's custom domain (web/domains.py)."""
        return super().is_websocket_origin_allowed(request, origin) or \
            domains.is_page_origin(origin)

    def encode_json(self, data: object) -> str:
        """Compact JSON, with the kept rows an HTTP execution left pre-encoded spliced in."""
        return encode_json(data)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if len(response.body) > self.max_response_bytes:
            response.body = self.encode_json_string(
                _too_large(len(response.body), self.max_response_bytes)).encode()
            response.headers["content-length"] = str(len(response.body))
        return response

    async def get_context(self, request: Request | WebSocket,
                          response: Response | WebSocket) -> Context:
        actor = await actor_from_request(request)
        return Context(request=request, response=response, actor=actor,
                       json_fragments=isinstance(request, Request))

    async def on_ws_connect(self, context: Context) -> Any:
        """graphql-transport-ws `connection_init`: the live domain authenticates here."""
        return await live_connection_init(context)


def _too_large(size: int, limit: int) -> dict[str, Any]:
    return {"data": None, "errors": [{
        "message": f"The answer would be {size:,} bytes; the limit is {limit:,}. Select fewer "
                   "fields or smaller lists.",
        "extensions": {"code": RESPONSE_TOO_LARGE, "bytes": size, "limit": limit},
    }]}


def graphql_routes(settings: Settings, shared: AppState) -> list[Any]:
    app = HeliographGraphQL(
        build_schema(settings.production),
        sockets=shared.sockets, groups=shared.live_groups,
        graphql_ide="graphiql" if settings.graphiql and not settings.production else None,
        allow_queries_via_get=True,  # queries only; strawberry refuses mutations over GET
        # Keep-alive: graphql-transport-ws has no server-sent pings in strawberry, so uvicorn
        # sends websocket pings (every 20 s, 20 s to answer; `heliograph serve`, Procfile).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=5),
        max_subscriptions_per_connection=20,
        allowed_origins=[settings.base_url, *settings.allowed_origins],
    )
    app.max_response_bytes = settings.graphql_max_response_bytes
    # Route + WebSocketRoute on one path: a Mount would 307 POSTs and refuse the websocket.
    return [
        # Anonymous reads of public pages are answered from memory (web.graphql_cache).
        Route("/graphql", GraphQLHttpGuard(
            GraphQLCache(app, shared.graphql_cache, shared.read_cache), settings),
            methods=["GET", "POST"]),
        WebSocketRoute("/graphql", app),
    ]
