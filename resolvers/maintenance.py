"""Maintenance runs itself: the timer that starts and completes scheduled maintenance."""

from __future__ import annotations

import asyncio


async def run_timer(stop: asyncio.Event) -> None:
    """Placeholder until the events issue lands: waits for `stop`."""
    await stop.wait()
