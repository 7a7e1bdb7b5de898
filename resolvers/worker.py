"""The background work of `heliograph worker` (and of the web process in the embedded default):
the maintenance timer beside the notification delivery loop."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("heliograph.worker")


async def run(stop: asyncio.Event) -> None:
    """Run the maintenance timer and the delivery loop until `stop` is set."""
    from notifications import worker as delivery
    from resolvers import maintenance

    tasks = [
        asyncio.create_task(maintenance.run_timer(stop), name="maintenance-timer"),
        asyncio.create_task(delivery.run(stop), name="delivery-loop"),
    ]
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                log.error("worker task ended with %r", result)
