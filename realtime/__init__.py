"""Channels, message encoding, the broadcaster and its supervision: no domain logic."""

from realtime.hub import hub
from realtime.messages import PageChange, channel_for


async def publish_change(change: PageChange) -> None:
    """Hand a committed change to every process (never raises)."""
    await hub.publish(change)


__all__ = ["PageChange", "channel_for", "hub", "publish_change"]
