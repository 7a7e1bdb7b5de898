"""How values read on a page: status words and colours, times in the page's zone, percents."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

import i18n
from models.words import event_word as _event_word
from models.words import kind_word
from models.words import status_word as _status_word


def status_word(status: str | None) -> str:
    """The status in the rendering's language (`i18n.using`)."""
    return _status_word(status)


def status_class(status: str | None) -> str:
    """CSS class of a component status (`s-none` before anything was counted)."""
    return "s-" + (status or "none").lower().replace("_", "-")


def event_word(status: str | None) -> str:
    return _event_word(status) if status else str(status)


def parse_dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def parse_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def local_time(value: Any, zone: str, with_date: bool = True) -> Markup:
    """A `<time>` element in the page's zone with the zone's abbreviation as label."""
    moment = parse_dt(value)
    if moment is None:
        return Markup("")
    shown = i18n.datetime_text(moment, zone, with_date)
    return Markup('<time datetime="{}">{}</time>').format(moment.isoformat(), escape(shown))


def local_input(value: Any, zone: str) -> str:
    """A `datetime-local` input's value: the moment as wall-clock time in the page's zone."""
    moment = parse_dt(value)
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def percent(ratio: float | None) -> str:
    """An availability ratio as a percentage, never rounded up to 100%."""
    if ratio is None:
        return i18n.gettext("No data")
    if ratio >= 1:
        return "100%"
    return i18n.percent_text(math.floor(ratio * 10000) / 100)


def day_label(value: Any) -> str:
    day = parse_date(value)
    return i18n.day_text(day) if day else ""


# The subscribe form's refusal of "chosen components" with none chosen (web/pages.py).
NO_COMPONENT = i18n.N_("Choose at least one component, or follow the whole page.")


def page_words() -> dict[str, Any]:
    """What the page's scripts (live.js, bars.js, subscribe.js) say, in the rendering's
    language: they keep English defaults and read these from `data-words`."""
    from models.words import words
    from resolvers.status import DESCRIPTIONS
    from resolvers.subscriber import EMAIL_MESSAGE

    lang = i18n.current()
    listed = words(lang)
    return {
        "locale": lang, "status": {k: v for k, v in listed["status"].items() if k},
        "kind": listed["kind"], "noData": listed["status"][None],
        "description": {v: i18n.gettext(v) for v in DESCRIPTIONS.values()},
        "live": i18n.gettext("Live"), "reconnecting": i18n.gettext("Reconnecting…"),
        "noComponent": i18n.gettext(NO_COMPONENT),
        "messages": {EMAIL_MESSAGE: i18n.gettext(EMAIL_MESSAGE)},
        "error": i18n.gettext("Something went wrong"),
        "unreachable": i18n.gettext("The server could not be reached; try again."),
    }


def register(env: Any) -> None:
    """Make the helpers available to every template."""
    env.globals.update(status_word=status_word, status_class=status_class,
                       event_word=event_word, local_time=local_time, percent=percent,
                       day_label=day_label, kind_word=kind_word, local_input=local_input,
                       current_language=i18n.current, page_words=page_words)
    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
