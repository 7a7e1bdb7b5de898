"""Markdown of update messages as sanitised HTML (raw HTML never passes), in one place for the
status page, feeds and the console (`page_html`) and for mails (`mail_html`).

The two keep their own dialects: the page reads a line break as a break and shows tables and
strikethrough within a short list of tags; mails render plain CommonMark under nh3's default
allow-list, as mail clients have always received it."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# What a status update needs: text formatting, lists, quotes, code, tables and links.
PAGE_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}
PAGE_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
PAGE_URL_SCHEMES = {"http", "https", "mailto"}

_page = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
_page.enable(["table", "strikethrough"])
_mail = MarkdownIt("commonmark", {"html": False, "linkify": False})


@lru_cache(maxsize=2048)
def page_html(text: str) -> Markup:
    """Markdown → sanitised HTML for the page, feeds and console, safe to put in a template."""
    clean = nh3.clean(_page.render(text or ""), tags=PAGE_TAGS, attributes=PAGE_ATTRIBUTES,
                      url_schemes=PAGE_URL_SCHEMES, link_rel="nofollow noopener noreferrer")
    return Markup(clean)


def mail_html(text: str) -> str:
    """Markdown → HTML for a mail, sanitised (no raw HTML, no scripts, safe links only)."""
    return nh3.clean(_mail.render(text or ""))
