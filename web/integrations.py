"""Inbound alert webhooks: `POST /integrations/{kind}/{token}` or `POST /integrations/{kind}`
with `Authorization: Bearer <token>`. A valid payload is stored in the inbox and answered 202
at once (the worker applies it); anything else is a 4xx with a JSON reason and writes
nothing. See docs/automation.md."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from models.enums import IntegrationKind
from resolvers import automation
from resolvers.alert_payload import parse
from resolvers.errors import DomainError
from resolvers.integration import accept, integration_for_token, webhook_path

MAX_BODY_BYTES = 1024 * 1024
KINDS = {kind.value.lower(): kind for kind in IntegrationKind}


def _refuse(status: int, code: str, message: str, field: str | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": field}},
                        status_code=status, headers=headers)


def _token(request: Request) -> str:
    in_path = request.path_params.get("token")
    if in_path:
        return str(in_path)
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


async def _body(request: Request) -> bytes | None:
    """The body, or None when it is larger than MAX_BODY_BYTES."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def receive_alerts(request: Request) -> JSONResponse:
    kind = KINDS.get(str(request.path_params["kind"]).lower())
    if kind is None:
        return _refuse(404, "NOT_FOUND", "Unknown integration kind: use "
                       + ", ".join(sorted(f"/integrations/{k}" for k in KINDS)))
    token = _token(request)
    integration = await integration_for_token(token) if token else None
    if integration is None:
        return _refuse(401, "UNAUTHENTICATED", "Unknown or revoked integration token",
                       headers={"www-authenticate": 'Bearer realm="integrations"'})
    if integration.kind != kind:
        return _refuse(400, "INVALID", f"This token belongs to a {integration.kind.value} "
                       f"integration: post to {webhook_path(integration.kind)}")
    body = await _body(request)
    if body is None:
        return _refuse(413, "PAYLOAD_TOO_LARGE",
                       f"The request body is limited to {MAX_BODY_BYTES} bytes")
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "INVALID", "The body is not JSON")
    try:
        alerts = parse(kind, data)
    except DomainError as exc:
        return _refuse(422, exc.code, exc.message, exc.field)
    row = await accept(integration, alerts)
    automation.wake()
    return JSONResponse({"accepted": len(alerts), "id": row.id}, status_code=202)


routes: list[Any] = [
    Route("/integrations/{kind}", receive_alerts, methods=["POST"]),
    Route("/integrations/{kind}/{token}", receive_alerts, methods=["POST"]),
]
