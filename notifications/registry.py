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
    from notifications import dingtalk, feishu, slack, wecom

    return {m.KIND: m for m in (slack, feishu, dingtalk, wecom)}


def provider_for(kind: ImProvider | str) -> Provider:
    """The module that formats, signs and judges messages for this provider."""
    module: Any = _modules()[ImProvider(kind)]
    return module  # type: ignore[no-any-return]
