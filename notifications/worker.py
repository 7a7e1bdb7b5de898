"""The delivery loop: expand notification jobs into deliveries, then send due deliveries in
batches, until `stop` is set. Several loops (processes) may run side by side."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from notifications.deliver import deliver_due
from notifications.expand import expand_pending

log = logging.getLogger("heliograph.notifications")

POLL_SECONDS = 0.5
_wake: asyncio.Event | None = None


def wake() -> None:
    """Ask this process's loop to look for work now (after a commit that created some)."""
    if _wake is not None:
        _wake.set()


async def nap(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """An idle loop's wait: until `stop`, a `wake` set after this call, or `seconds`."""
    wake.clear()
    waits = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
    await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def step(client: httpx.AsyncClient) -> bool:
    """One round: expand pending jobs, send one batch; True when there was work."""
    jobs = await expand_pending()
    sent = await deliver_due(client)
    return bool(jobs or sent)


async def run(stop: asyncio.Event) -> None:
    """Deliver notifications until `stop` is set."""
    global _wake
    _wake = asyncio.Event()
    async with httpx.AsyncClient() as client:
        while not stop.is_set():
            busy = False
            try:
                busy = await step(client)
            except Exception:  # a bad round must not end the loop; the rows stay owed
                log.exception("delivery round failed")
            if not busy:
                await nap(stop, _wake, POLL_SECONDS)
