"""Errors outside any endpoint's own answers (unknown paths, wrong methods, unexpected
exceptions): JSON for the JSON endpoints, so a client of `/api/v2/…`, `/graphql` or a bar's
details never has to parse a plain-text 500; Starlette's plain text elsewhere. `/graphql`'s are
GraphQL-shaped (`{"errors": [{"message", "extensions": {"code"}}]}`, the code the upper-case
form of the JSON one: BAD_REQUEST, NOT_FOUND, METHOD_NOT_ALLOWED, INTERNAL, UNAVAILABLE…).
An exception that says the database cannot be reached answers 503 `unavailable` (with
Retry-After) instead of 500 `internal`."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from resolvers.errors import UNAVAILABLE_MESSAGE, database_unreachable

log = logging.getLogger("heliograph.web")

CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
         429: "rate_limited", 500: "internal", 503: "unavailable"}


RETRY = {"retry-after": "5"}


def graphql_error(status: int, message: str, headers: Mapping[str, str] | None = None
                  ) -> JSONResponse:
    """An error of `/graphql` outside execution, shaped as GraphQL clients read them."""
    code = CODES.get(status, "error").upper()
    return JSONResponse({"errors": [
        {"message": message, "extensions": {"code": code}}]},
        status_code=status, headers=headers)


def wants_json(path: str) -> bool:
    return (path.startswith(("/api/", "/graphql")) or "/api/v2/" in path
            or path.endswith(".json") or ("/bars/" in path and path.startswith("/p/")))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=exc.headers)
    if request.url.path.startswith("/graphql"):
        return graphql_error(exc.status_code, exc.detail, headers=exc.headers)
    if wants_json(request.url.path):
        return JSONResponse({"error": CODES.get(exc.status_code, "error"), "message": exc.detail},
                            status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected exception (Starlette logs it after this answer)."""
    path = request.url.path
    if database_unreachable(exc):
        if path.startswith("/graphql"):
            return graphql_error(503, UNAVAILABLE_MESSAGE, headers=RETRY)
        if wants_json(path):
            return JSONResponse({"error": "unavailable", "message": UNAVAILABLE_MESSAGE},
                                status_code=503, headers=RETRY)
        return PlainTextResponse("Service Unavailable: the database cannot be read right now",
                                 status_code=503, headers=RETRY)
    if path.startswith("/graphql"):
        return graphql_error(500, "Unexpected error.")
    if wants_json(path):
        return JSONResponse({"error": "internal", "message": "Internal server error"},
                            status_code=500)
    return PlainTextResponse("Internal Server Error", status_code=500)


handlers = {HTTPException: http_error, Exception: server_error}
