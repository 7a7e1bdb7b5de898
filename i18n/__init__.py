"""Languages of the visitor-facing text: the status page, history, event and subscription
pages, the widget, mails and IM cards (the console stays English, its strings extractable).

Catalogs are gettext `.po` files under `i18n/locale/` (`make messages` extracts
`messages.pot`); they are compiled in memory with babel's API the first time a language is
used, so there is no build step and no `.mo` file. The language of a rendering is a context
variable set around it (`using(lang)`): the Jinja2 i18n extension's `_`/`gettext`/`ngettext`,
the word lists (`models.words`) and the date and number formatters below read it."""

from __future__ import annotations

import functools
import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT = "en"
# The languages a page may have, as stored and as in `<html lang>` -> babel's locale name.
SUPPORTED: dict[str, str] = {"en": "en", "zh-CN": "zh_CN"}
_current: ContextVar[str] = ContextVar("heliograph_language", default=DEFAULT)


def N_(message: str) -> str:
    """Mark a string for extraction where it is defined; it is translated where shown."""
    return message


def canonical(value: str | None) -> str | None:
    """The supported language `value` names ("zh-cn", "zh_CN" -> "zh-CN"), else None."""
    if not value:
        return None
    wanted = value.strip().replace("_", "-").lower()
    for lang in SUPPORTED:
        if lang.lower() == wanted:
            return lang
    return None


def _match(tag: str) -> str | None:
    """A supported language for one Accept-Language tag (zh, zh-Hans, zh-SG -> zh-CN)."""
    tag = tag.strip().replace("_", "-").lower()
    if tag.startswith("zh"):
        return None if tag in ("zh-tw", "zh-hk", "zh-mo") or tag.startswith("zh-hant") \
            else "zh-CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def negotiate(header: str | None, fallback: str) -> str:
    """The supported language the visitor prefers most (Accept-Language), else `fallback`."""
    if not header:
        return fallback
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, raw = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(raw)
                except ValueError:
                    quality = 0.0
        if tag.strip() == "*" or quality <= 0:
            continue
        found = _match(tag)
        if found is not None:
            ranked.append((-quality, position, found))
    return min(ranked)[2] if ranked else fallback


@functools.cache
def catalog(lang: str) -> _gettext.NullTranslations:
    """The compiled translations of `lang` (English: the msgids as they are)."""
    if lang == DEFAULT or lang not in SUPPORTED:
        return _gettext.NullTranslations()
    path = LOCALE_DIR / SUPPORTED[lang] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        messages = read_po(po, locale=SUPPORTED[lang])
    compiled = BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def current() -> str:
    return _current.get()


@contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Render in `lang` (an unsupported or empty one: English) inside the block."""
    chosen = canonical(lang) or DEFAULT
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return catalog(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalog(_current.get()).ngettext(singular, plural, n)


def locale() -> Locale:
    return Locale.parse(SUPPORTED[_current.get()])


def datetime_text(moment: datetime, zone: str, with_date: bool = True) -> str:
    """`moment` in `zone` with the zone's abbreviation: "01 Dec 2026, 21:06 CET" in English,
    "2026年12月1日 21:06 CET" in Chinese."""
    local = moment.astimezone(ZoneInfo(zone or "UTC"))
    if _current.get() == DEFAULT:
        return local.strftime("%d %b %Y, %H:%M %Z" if with_date else "%H:%M %Z")
    clock = local.strftime("%H:%M %Z")
    return f"{format_date(local, 'long', locale=locale())} {clock}" if with_date else clock


def day_text(day: date) -> str:
    """A day: "Tue 01 Dec 2026", "2026年12月1日星期二"."""
    if _current.get() == DEFAULT:
        return day.strftime("%a %d %b %Y")
    return format_date(day, "full", locale=locale())


def month_text(day: date) -> str:
    """A month: "December 2026", "2026年12月"."""
    if _current.get() == DEFAULT:
        return day.strftime("%B %Y")
    return format_date(day, "yyyy年M月" if _current.get() == "zh-CN" else "MMMM y",
                       locale=locale())


def short_day_text(day: date, with_year: bool) -> str:
    """"1 Dec" / "1 Dec 2025", "12月1日" / "2025年12月1日"."""
    if _current.get() == DEFAULT:
        return f"{day.day} {day:%b}" + (f" {day.year}" if with_year else "")
    return format_date(day, "long" if with_year else "MMMd", locale=locale())


def percent_text(value: float) -> str:
    """A percentage already floored to two decimals: "99.95%"."""
    if _current.get() == DEFAULT:
        return f"{value:.2f}%"
    from babel.numbers import format_decimal

    return format_decimal(value, "#,##0.00", locale=locale()) + "%"
