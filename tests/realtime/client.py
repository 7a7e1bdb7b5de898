"""A real GraphQL websocket client (gql over graphql-transport-ws) for the live tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

PAGE_UPDATES = """
subscription($slug: String!) {
  pageUpdates(slug: $slug) {
    sequence kind componentIds
    page { slug name sequence status components { id name status } }
  }
}"""
COMPONENT_STATUS = """
subscription($slug: String!, $ids: [ID!]!) {
  componentStatusChanged(slug: $slug, componentIds: $ids) {
    sequence kind componentIds page { components { id status } }
  }
}"""
UPDATE_COMPONENT = """
mutation($input: UpdateComponentInput!) {
  updateComponent(input: $input) {
    __typename
    ... on UpdateComponentPayload { component { id name } }
    ... on Error { code message }
  }
}"""


class Stream:
    """The messages of one subscription as they arrive (or the exception that ended it)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.done = False

    async def next(self, wait: float = 10.0) -> dict[str, Any]:
        item = await asyncio.wait_for(self.queue.get(), wait)
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[no-any-return]

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.queue.get(), seconds)
        except TimeoutError:
            return True
        return False


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/graphql"


def transport(base: str, token: str | None = None, origin: str | None = None,
              cookie: str | None = None) -> WebsocketsTransport:
    headers = {"Origin": origin} if origin else {}
    if cookie:
        headers["Cookie"] = cookie
    return WebsocketsTransport(
        url=ws_url(base),
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"authorization": f"Bearer {token}"} if token else {},
        headers=headers or None,
        connect_timeout=10, ack_timeout=10, close_timeout=5,
    )


@contextlib.asynccontextmanager
async def subscribe(base: str, query: str, variables: dict[str, Any], *,
                    token: str | None = None) -> AsyncIterator[Stream]:
    """Open a websocket, subscribe, and collect the messages in the background."""
    stream = Stream()
    async with Client(transport=transport(base, token)) as session:

        async def pump() -> None:
            request = GraphQLRequest(query, variable_values=variables)
            try:
                async for result in session.subscribe(request):
                    stream.queue.put_nowait(result)
            except Exception as exc:  # handed to the test, which asserts on it
                stream.queue.put_nowait(exc)
            finally:
                stream.done = True

        task = asyncio.create_task(pump())
        try:
            yield stream
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def mutate(base: str, token: str, query: str, variables: dict[str, Any]
                 ) -> dict[str, Any]:
    """POST a mutation to a running server as a tool would."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables},
                                   headers={"authorization": f"Bearer {token}"})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]
