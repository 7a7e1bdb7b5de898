"""The change message carried on a page's broadcast channel (JSON text, with the sequence)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PageChange:
    """What one committed change did to a page's visible state (kinds as in PageUpdate.kind)."""

    page_id: str
    sequence: int
    kind: str  # COMPONENT_STATUS, EVENT_PUBLISHED, EVENT_UPDATED, EVENT_DELETED, PAGE_EDITED
    event_id: str | None = None
    component_ids: tuple[str, ...] = field(default_factory=tuple)

    def encode(self) -> str:
        return json.dumps(
            {
                "page": self.page_id,
                "seq": self.sequence,
                "kind": self.kind,
                "event": self.event_id,
                "components": list(self.component_ids),
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, text: str) -> PageChange:
        data = json.loads(text)
        return cls(
            page_id=str(data["page"]),
            sequence=int(data["seq"]),
            kind=str(data["kind"]),
            event_id=data.get("event"),
            component_ids=tuple(data.get("components") or ()),
        )


def channel_for(page_id: str) -> str:
    return f"heliograph.page.{page_id}"


def page_of_channel(channel: str) -> str | None:
    """The page id a channel name carries (None for a foreign channel)."""
    prefix = "heliograph.page."
    return channel[len(prefix):] if channel.startswith(prefix) else None


CREDENTIALS_CHANNEL = "heliograph.credentials"


@dataclass(frozen=True)
class CredentialChange:
    """Credentials that stopped working, or a user whose rights changed (after commit).

    kind: USER_DEACTIVATED (everything of the user), SESSIONS_ENDED (every session of the
    user), SESSION_ENDED / TOKEN_REVOKED (the one named by `credential_id`), ROLES_CHANGED
    (the user's admin flag or role assignments)."""

    kind: str
    user_id: str
    credential_id: str | None = None

    def encode(self) -> str:
        return json.dumps({"kind": self.kind, "user": self.user_id, "id": self.credential_id},
                          separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> CredentialChange:
        data = json.loads(text)
        credential = data.get("id")
        return cls(kind=str(data["kind"]), user_id=str(data["user"]),
                   credential_id=None if credential is None else str(credential))
