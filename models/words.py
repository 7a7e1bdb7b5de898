"""How values read for people, in one place: the status page, the console, mail and IM all
say the same words and show times the same way (in the page's time zone)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import i18n
from i18n import N_

STATUS_WORDS: dict[str | None, str] = {
    "OPERATIONAL": N_("Operational"),
    "DEGRADED": N_("Degraded performance"),
    "PARTIAL_OUTAGE": N_("Partial outage"),
    "FULL_OUTAGE": N_("Major outage"),
    "UNDER_MAINTENANCE": N_("Under maintenance"),
    None: N_("No data"),
}
EVENT_WORDS = {
    "INVESTIGATING": N_("Investigating"),
    "IDENTIFIED": N_("Identified"),
    "MONITORING": N_("Monitoring"),
    "RESOLVED": N_("Resolved"),
    "SCHEDULED": N_("Scheduled"),
    "IN_PROGRESS": N_("In progress"),
    "COMPLETED": N_("Completed"),
}
KIND_WORDS = {"INCIDENT": N_("Incident"), "MAINTENANCE": N_("Maintenance")}
TIME_FORMAT = "%d %b %Y, %H:%M %Z"  # 01 Dec 2026, 21:06 CET
SHORT_TIME_FORMAT = "%H:%M %Z"


def _value(status: object) -> str | None:
    return None if status is None else str(getattr(status, "value", status))


def status_word(status: object) -> str:
    """A component status as the page says it ("Major outage" for FULL_OUTAGE), in the
    language of the rendering (`i18n.using`; English outside one, as the API says it)."""
    key = _value(status)
    word = STATUS_WORDS.get(key)
    return str(key) if word is None else i18n.gettext(word)


def event_word(status: object) -> str:
    key = _value(status) or ""
    word = EVENT_WORDS.get(key)
    return key if word is None else i18n.gettext(word)


def kind_word(kind: object) -> str:
    key = _value(kind) or ""
    word = KIND_WORDS.get(key)
    return key if word is None else i18n.gettext(word)


def words(lang: str | None) -> dict[str, dict[str | None, str]]:
    """Every word list in `lang`: {"status": …, "event": …, "kind": …} (the English lists
    above are the msgids)."""
    with i18n.using(lang):
        return {"status": {k: i18n.gettext(v) for k, v in STATUS_WORDS.items()},
                "event": {k: i18n.gettext(v) for k, v in EVENT_WORDS.items()},
                "kind": {k: i18n.gettext(v) for k, v in KIND_WORDS.items()}}


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone or "UTC"))


def local_time_text(moment: datetime, zone: str, with_date: bool = True) -> str:
    """`moment` in the page's zone with the zone's abbreviation: "01 Dec 2026, 21:06 CET"
    ("2026年12月1日 21:06 CET" in a Chinese rendering)."""
    return i18n.datetime_text(moment, zone, with_date)
