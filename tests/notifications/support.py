"""Real servers and helpers for the notification tests: an aiosmtpd SMTP server in this
process, a tiny asyncio HTTP receiver for IM webhooks, GraphQL documents, and a drain loop."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller

from settings import reset_settings
from tests.helpers.server import free_port

CREATE_PAGE = """
mutation($input: CreatePageInput!) { createPage(input: $input) {
  __typename ... on CreatePagePayload { page { id slug } } ... on Error { code message } } }"""
CREATE_COMPONENT = """
mutation($input: CreateComponentInput!) { createComponent(input: $input) {
  __typename ... on CreateComponentPayload { component { id name } }
  ... on Error { code message } } }"""
CREATE_INCIDENT = """
mutation($input: CreateIncidentInput!) { createIncident(input: $input) {
  __typename ... on CreateIncidentPayload { event { id title updates { id } } }
  ... on Error { code message field } } }"""
POST_UPDATE = """
mutation($input: PostEventUpdateInput!) { postEventUpdate(input: $input) {
  __typename ... on PostEventUpdatePayload { event { id status updates { id } } }
  ... on Error { code message field } } }"""
SUBSCRIBE = """
mutation($input: SubscribeInput!) { subscribe(input: $input) {
  __typename ... on SubscribePayload { message } ... on Error { code message field } } }"""


# ---- SMTP ---------------------------------------------------------------------------------


class MailSink:
    """aiosmtpd handler: keeps every accepted message; `answer(rcpt)` may refuse a recipient
    with an SMTP reply such as "451 …" or "550 …"; `delay` slows each DATA down."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.answer: Callable[[str], str | None] | None = None
        self.delay = 0.0
        self.attempts: dict[str, int] = {}
        self.port = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self.lock:
            self.attempts[address] = self.attempts.get(address, 0) + 1
        reply = self.answer(address) if self.answer else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def recipients(self) -> list[str]:
        with self.lock:
            return sorted(str(m["To"]) for m in self.messages)


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    """A real SMTP server on a free port; SMTP_URL points at it for this test."""
    sink = MailSink()
    port = sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    previous = os.environ.get("SMTP_URL")
    os.environ["SMTP_URL"] = f"smtp://127.0.0.1:{port}?timeout=5"
    reset_settings()
    try:
        yield sink
    finally:
        controller.stop()
        if previous is None:
            os.environ.pop("SMTP_URL", None)
        else:
            os.environ["SMTP_URL"] = previous
        reset_settings()


# ---- HTTP receiver for IM webhooks ---------------------------------------------------------


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw: bytes = b""


@dataclass
class Receiver:
    """An HTTP/1.1 server in this event loop; `reply(request) -> (status, headers, body)`."""

    reply: Callable[[Received], tuple[int, dict[str, str], str]]
    requests: list[Received] = field(default_factory=list)
    url: str = ""


async def _serve_one(receiver: Receiver, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        _method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, v in
                   (line.split(":", 1) for line in lines[1:] if ":" in line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        parts = urlsplit(target)
        request = Received(parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                           headers, json.loads(body) if body else None, body)
        receiver.requests.append(request)
        status, extra, text = receiver.reply(request)
        payload = text.encode()
        response = [f"HTTP/1.1 {status} X", f"content-length: {len(payload)}",
                    "connection: close", *(f"{k}: {v}" for k, v in extra.items())]
        writer.write(("\r\n".join(response) + "\r\n\r\n").encode() + payload)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A local webhook endpoint answering `{"errcode": 0}` until a test says otherwise."""
    recv = Receiver(reply=lambda r: (200, {"content-type": "application/json"},
                                     '{"errcode":0,"errmsg":"ok"}'))
    server = await asyncio.start_server(lambda r, w: _serve_one(recv, r, w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    recv.url = f"http://127.0.0.1:{port}"
    try:
        yield recv
    finally:
        server.close()
        await server.wait_closed()


# ---- driving the worker in this process ----------------------------------------------------


async def drain(rounds: int = 200) -> None:
    """Run delivery rounds until nothing is due (what `heliograph worker` does, inline)."""
    from notifications.worker import step

    async with httpx.AsyncClient() as client:
        for _ in range(rounds):
            if not await step(client):
                return
    raise AssertionError("the delivery loop kept finding work")


async def make_page(gql: Any, slug: str = "acme", visibility: str = "PUBLIC",
                    components: tuple[str, ...] = ("API", "Web")) -> tuple[str, dict[str, str]]:
    """A page with components (by name → id), created over GraphQL as an administrator."""
    page = (await gql(CREATE_PAGE, {"input": {"slug": slug, "name": slug.title(),
                                              "visibility": visibility}}))["data"]["createPage"]
    ids = {}
    for name in components:
        created = (await gql(CREATE_COMPONENT, {"input": {"pageId": page["page"]["id"],
                                                          "name": name}}))["data"]
        ids[name] = created["createComponent"]["component"]["id"]
    return page["page"]["id"], ids


async def open_incident(gql: Any, page_id: str, title: str = "API errors",
                        impacts: dict[str, str] | None = None, notify: bool = True
                        ) -> dict[str, Any]:
    body = await gql(CREATE_INCIDENT, {"input": {
        "pageId": page_id, "title": title, "message": "We are **looking** into it.",
        "components": [{"componentId": c, "impact": i} for c, i in (impacts or {}).items()],
        "notify": notify}})
    result = body["data"]["createIncident"]
    assert result["__typename"] == "CreateIncidentPayload", result
    return result["event"]  # type: ignore[no-any-return]


async def post_update(gql: Any, event_id: str, status: str, message: str = "Update",
                      notify: bool = True) -> dict[str, Any]:
    body = await gql(POST_UPDATE, {"input": {"eventId": event_id, "status": status,
                                             "message": message, "notify": notify}})
    result = body["data"]["postEventUpdate"]
    assert result["__typename"] == "PostEventUpdatePayload", result
    return result["event"]  # type: ignore[no-any-return]


async def subscribe(gql: Any, **fields: Any) -> dict[str, Any]:
    body = await gql(SUBSCRIBE, {"input": {"pageSlug": "acme", **fields}}, token="")
    return body["data"]["subscribe"]  # type: ignore[no-any-return]


def link_in(message: EmailMessage, marker: str) -> str:
    """The first link in the text part containing `marker` (e.g. '/subscriptions/confirm/')."""
    part = message.get_body(("plain",))
    assert part is not None
    text = part.get_content()
    for word in text.split():
        if marker in word:
            return word
    raise AssertionError(f"no {marker} link in {text!r}")


def path_of(url: str) -> str:
    return urlsplit(url).path
