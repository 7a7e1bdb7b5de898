"""How values read for people, in one place: the status page, the console, mail and IM all
say the same words and show times the same way (in the page's time zone)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

STATUS_WORDS: dict[str | None, str] = {
    "OPERATIONAL": "Operational",
    "DEGRADED": "Degraded performance",
    "PARTIAL_OUTAGE": "Partial outage",
    "FULL_OUTAGE": "Major outage",
    "UNDER_MAINTENANCE": "Under maintenance",
    None: "No data",
}
EVENT_WORDS = {
    "INVESTIGATING": "Investigating",
    "IDENTIFIED": "Identified",
    "MONITORING": "Monitoring",
    "RESOLVED": "Resolved",
    "SCHEDULED": "Scheduled",
    "IN_PROGRESS": "In progress",
    "COMPLETED": "Completed",
}
KIND_WORDS = {"INCIDENT": "Incident", "MAINTENANCE": "Maintenance"}
TIME_FORMAT = "%d %b %Y, %H:%M %Z"  # 01 Dec 2026, 21:06 CET
SHORT_TIME_FORMAT = "%H:%M %Z"


def _value(status: object) -> str | None:
    return None if status is None else str(getattr(status, "value", status))


def status_word(status: object) -> str:
    """A component status as the page says it ("Major outage" for FULL_OUTAGE)."""
    key = _value(status)
    return STATUS_WORDS.get(key, str(key))


def event_word(status: object) -> str:
    key = _value(status) or ""
    return EVENT_WORDS.get(key, key)


def kind_word(kind: object) -> str:
    key = _value(kind) or ""
    return KIND_WORDS.get(key, key)


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone or "UTC"))


def local_time_text(moment: datetime, zone: str, with_date: bool = True) -> str:
    """`moment` in the page's zone with the zone's abbreviation: "01 Dec 2026, 21:06 CET"."""
    return local(moment, zone).strftime(TIME_FORMAT if with_date else SHORT_TIME_FORMAT)
