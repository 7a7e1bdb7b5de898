"""The background work of `heliograph worker` (and of the web process in the embedded default):
the maintenance timer and the automation loop (alerts in, incidents out) beside the
notification delivery loop."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("heliograph.worker")

# On stop each loop finishes the round it is in (a batch being sent records every result, so
# nothing accepted by a mail server is sent again); only a round still running after this long
# is cancelled, and its unrecorded rows are sent again once their lease expires.
GRACE_SECONDS = 8.0


async def run(stop: asyncio.Event, grace: float = GRACE_SECONDS) -> None:
    """Run the maintenance timer and the delivery loop until `stop` is set, then let them end
    their current round (at most `grace` seconds)."""
    from notifications import worker as delivery
    from resolvers import automation, maintenance, webhook

    webhook.install()  # webhook bodies are Statuspage's shapes, built at this layer

    tasks = [
        asyncio.create_task(maintenance.run_timer(stop), name="maintenance-timer"),
        asyncio.create_task(automation.run(stop), name="automation-loop"),
        asyncio.create_task(delivery.run(stop), name="delivery-loop"),
    ]
    try:
        await stop.wait()
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            log.warning("%s still busy %.0f s after stop: cancelled", task.get_name(), grace)
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                log.error("worker task ended with %r", result)
