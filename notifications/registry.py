"""The IM providers: one module per provider with the same small interface."""

from __future__ import annotations

from datetime import datetime
from types import ModuleType
from typing import Any, Protocol

import httpx

from models import ImDestination
from models.enums import ImProvider
from notifications.outcome import Outcome
from notifications.render import Notice


class Provider(Protocol):
    KIND: ImProvider
    RATE_PER_MINUTE: int
    HOSTS: tuple[str, ...]

    def request(self, notice: Notice, destination: ImDestination, now: datetime
                ) -> tuple[str, dict[str, Any]]: ...

    def judge(self, response: httpx.Response) -> Outcome: ...


def _modules() -> dict[ImProvider, ModuleType]:
    from notifications import dingtalk, discord, feishu, slack, teams, wecom

    return {m.KIND: m for m in (slack, feishu, dingtalk, wecom, teams, discord)}


def provider_for(kind: ImProvider | str) -> Provider:
    """The module that formats, signs and judges messages for this provider."""
    module: Any = _modules()[ImProvider(kind)]
    return module  # type: ignore[no-any-return]


def host_allowed(hosts: tuple[str, ...], hostname: str) -> bool:
    """`hostname` is one of `hosts`; an entry starting with "." allows any host under it."""
    hostname = hostname.lower().rstrip(".")
    return any(hostname.endswith(h) and len(hostname) > len(h) if h.startswith(".")
               else hostname == h for h in hosts)


def hosts_text(hosts: tuple[str, ...]) -> str:
    return " or ".join(f"*{h}" if h.startswith(".") else h for h in hosts)
