"""A TCP proxy on 127.0.0.1 that can silently drop its open connections, as a NAT or load
balancer does with idle ones: nothing is closed, nothing gets through any more."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlparse


class Proxy:
    def __init__(self, target_url: str) -> None:
        parsed = urlparse(target_url)
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 6379)
        self.path = parsed.path
        self.port = 0
        self.generation = 0  # connections of an older generation are dropped
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}{self.path}"

    def drop_open_connections(self) -> None:
        """From now on, the open connections carry nothing either way (and stay open)."""
        self.generation += 1

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    generation: int) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                if generation == self.generation:
                    writer.write(data)
                    await writer.drain()

    async def _serve(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.target)
        self._writers += [client_writer, server_writer]
        generation = self.generation
        for pipe in (self._pipe(client_reader, server_writer, generation),
                     self._pipe(server_reader, client_writer, generation)):
            task = asyncio.create_task(pipe)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


@contextlib.asynccontextmanager
async def proxy_to(target_url: str) -> AsyncIterator[Proxy]:
    proxy = Proxy(target_url)
    server = await asyncio.start_server(proxy._serve, "127.0.0.1", 0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        for task in list(proxy._tasks):
            task.cancel()
        for writer in proxy._writers:
            writer.close()
        await asyncio.gather(*proxy._tasks, return_exceptions=True)
