"""Markdown of update messages rendered to HTML, then sanitised (raw HTML never passes)."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# What a status update needs: text formatting, lists, quotes, code, tables and links.
TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
_md.enable(["table", "strikethrough"])


@lru_cache(maxsize=2048)
def render(text: str) -> Markup:
    """Markdown → sanitised HTML, safe to put in a template."""
    html = _md.render(text or "")
    clean = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES,
                      url_schemes={"http", "https", "mailto"},
                      link_rel="nofollow noopener noreferrer")
    return Markup(clean)
