"""Channels, message encoding, the broadcast (our own Redis backend) and its supervision: no
domain logic."""

from realtime.hub import hub
from realtime.messages import CredentialChange, PageChange, channel_for


async def publish_change(change: PageChange) -> None:
    """Hand a committed change to every process (never raises)."""
    await hub.publish(change)


async def publish_credentials(change: CredentialChange) -> None:
    """Hand a committed credential change (revocation, new rights) to every process."""
    await hub.publish_credentials(change)


__all__ = ["CredentialChange", "PageChange", "channel_for", "hub", "publish_change",
           "publish_credentials"]
