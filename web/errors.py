"""Errors outside any endpoint's own answers (unknown paths, wrong methods, unexpected
exceptions): JSON for the JSON endpoints, so a client of `/api/v2/…`, `/graphql` or a bar's
details never has to parse a plain-text 500; Starlette's plain text elsewhere."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

log = logging.getLogger("heliograph.web")

CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
         429: "rate_limited", 500: "internal", 503: "unavailable"}


def wants_json(path: str) -> bool:
    return (path.startswith(("/api/", "/graphql")) or "/api/v2/" in path
            or path.endswith(".json") or ("/bars/" in path and path.startswith("/p/")))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=exc.headers)
    if wants_json(request.url.path):
        return JSONResponse({"error": CODES.get(exc.status_code, "error"), "message": exc.detail},
                            status_code=exc.status_code, headers=exc.headers)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected exception (Starlette logs it after this answer)."""
    if wants_json(request.url.path):
        return JSONResponse({"error": "internal", "message": "Internal server error"},
                            status_code=500)
    return PlainTextResponse("Internal Server Error", status_code=500)


handlers = {HTTPException: http_error, Exception: server_error}
