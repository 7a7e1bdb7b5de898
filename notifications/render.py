"""What a notification says: one `Notice` per update (loaded once, shared by every recipient),
rendered as a mail (text + HTML) or handed to an IM provider's formatter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

import i18n
from models import Component, Event, EventComponent, EventUpdate, StatusPage, UpdateImpact
from models.enums import ComponentStatus
from models.markdown import mail_html
from models.words import event_word, kind_word, local_time_text, status_word
from notifications import links
from resolvers import domains

TEMPLATES = Path(__file__).with_name("templates")

@dataclass(frozen=True)
class Notice:
    """One update, as every subscriber will read it."""

    page_name: str
    page_slug: str
    event_id: str
    kind: str  # "Incident" or "Maintenance"
    title: str
    status: str  # "Investigating", "In progress", …
    message: str  # Markdown as written
    message_html: str  # rendered and sanitised
    components: tuple[tuple[str, str], ...]  # (name, impact in the page's words)
    link: str
    at: datetime
    time_zone: str = "UTC"  # the page's zone: times read as they do on the page
    final: bool = False  # resolved / completed: nothing is still affected
    language: str = "en"  # the page's: kind, status and impacts above are in it already

    @property
    def when(self) -> str:
        """The update's time as the page shows it: "01 Dec 2026, 21:06 CET"."""
        with i18n.using(self.language):
            return local_time_text(self.at, self.time_zone)

    @property
    def components_heading(self) -> str:
        with i18n.using(self.language):
            return i18n.gettext("No longer affected") if self.final \
                else i18n.gettext("Affected components")

    @property
    def view_label(self) -> str:
        """The link to the event's page, as IM cards word it."""
        with i18n.using(self.language):
            return i18n.gettext("View on the status page")

    def more_label(self, count: int) -> str:
        with i18n.using(self.language):
            return i18n.ngettext("%(count)d more", "%(count)d more", count) % {"count": count}

    @property
    def subject(self) -> str:
        with i18n.using(self.language):
            return i18n.gettext("[%(page)s] %(title)s: %(status)s") % {
                "page": self.page_name, "title": self.title, "status": self.status}


async def load_notice(update_id: str) -> Notice | None:
    """The notice for an update, or None when the update (or its event) is gone."""
    update = await EventUpdate.filter(id=update_id).first()
    if update is None:
        return None
    event = await Event.filter(id=update.event_id).first()
    if event is None:
        return None
    page = await StatusPage.get(id=event.page_id)
    await domains.refresh()  # the event link names the page's domain
    affected = await EventComponent.filter(event_id=event.id).order_by("position").all()
    names = dict(await Component.filter(
        id__in=[a.component_id for a in affected]).values_list("id", "name"))
    # The impacts as of this update (later updates may change them before we send).
    impacts: dict[str, ComponentStatus] = {}
    updates = await EventUpdate.filter(event_id=event.id).order_by("at", "created_at")
    ids = [u.id for u in updates]
    order = {uid: i for i, uid in enumerate(ids)}
    rows = await UpdateImpact.filter(update_id__in=ids).values_list(
        "update_id", "component_id", "impact")
    for uid, cid, impact in sorted(rows, key=lambda r: order[r[0]]):
        if order[uid] <= order[update.id]:
            impacts[cid] = ComponentStatus(impact)
    with i18n.using(page.language):
        return _notice(page, event, update, affected, names, impacts)


def _notice(page: StatusPage, event: Event, update: EventUpdate, affected: list[EventComponent],
            names: dict[str, str], impacts: dict[str, ComponentStatus]) -> Notice:
    """The notice in the language of the rendering (the page's)."""
    final = update.status.final
    components = []
    for a in affected:
        if a.component_id not in names:
            continue
        impact = impacts.get(a.component_id)
        if final:  # a resolved incident / completed maintenance lists nothing as still down
            impact = ComponentStatus.OPERATIONAL
        label = status_word(impact) if impact else i18n.gettext("Planned maintenance")
        components.append((names[a.component_id], label))
    return Notice(
        page_name=page.name, page_slug=page.slug, event_id=event.id,
        kind=kind_word(event.kind), title=event.title, status=event_word(update.status),
        message=update.message, message_html=mail_html(update.message),
        components=tuple(components), link=links.event_url(page.slug, event.id), at=update.at,
        time_zone=page.time_zone or "UTC", final=final, language=i18n.current(),
    )


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]), keep_trailing_newline=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True)
    env.globals["current_language"] = i18n.current
    return env


def render_mail(name: str, language: str | None = None, **context: Any) -> tuple[str, str]:
    """The text and HTML parts of mail template `name` (`<name>.txt`, `<name>.html`), in
    `language` (default: the notice's, else English)."""
    env = _env()
    notice = context.get("notice")
    with i18n.using(language or getattr(notice, "language", None)):
        return (env.get_template(f"{name}.txt").render(**context),
                env.get_template(f"{name}.html").render(**context))


def confirmation_subject(page_name: str, confirmation: bool, language: str | None) -> str:
    """The subject of a confirmation or manage-link mail, in the page's language."""
    with i18n.using(language):
        text = i18n.gettext("Confirm your subscription to %(page)s") if confirmation \
            else i18n.gettext("Your subscription to %(page)s")
    return text % {"page": page_name}


def plain_lines(notice: Notice) -> list[str]:
    """The notice as short plain lines (used by IM formatters)."""
    lines = [f"{notice.kind} · {notice.status} · {notice.when}", notice.message.strip()]
    if notice.components:
        with i18n.using(notice.language):
            items = i18n.gettext(", ").join(
                i18n.gettext("%(component)s (%(impact)s)") % {"component": n, "impact": i}
                for n, i in notice.components)
            lines.append(i18n.gettext("%(heading)s: %(items)s") % {
                "heading": notice.components_heading, "items": items})
    return [line for line in lines if line]
