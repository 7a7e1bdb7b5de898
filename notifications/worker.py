"""The delivery loop (the notifications issue fills it in)."""

from __future__ import annotations

import asyncio


async def run(stop: asyncio.Event) -> None:
    """Placeholder: waits for `stop`."""
    await stop.wait()
