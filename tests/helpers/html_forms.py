"""Forms as a browser without JavaScript sends them: read from the served HTML, with the
values it would post (ticked boxes only, the selected option, text as typed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode


@dataclass
class Form:
    attrs: dict[str, str]
    fields: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    buttons: list[dict[str, str]] = field(default_factory=list)

    @property
    def action(self) -> str:
        return self.attrs.get("action", "")

    def data(self, **typed: str | list[str]) -> list[tuple[str, str]]:
        """What the browser posts, with `typed` replacing (or adding) fields by name; a list
        value ticks those values of a checkbox group (and unticks the others)."""
        sent: list[tuple[str, str]] = []
        for name, value, attrs in self.fields:
            if name in typed:
                continue
            kind = attrs.get("type", "")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                continue
            sent.append((name, value))
        for name, wanted in typed.items():
            for value in [wanted] if isinstance(wanted, str) else wanted:
                sent.append((name, value))
        return sent


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: tuple[str, dict[str, str]] | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: tuple[str, dict[str, str]] | None = None
        self.text = ""
        self.template = 0

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "template":
            self.template += 1
        if self.template:
            return
        if tag == "form":
            self.current = Form(attrs)
            self.forms.append(self.current)
        elif self.current is None:
            return
        elif tag == "input" and "name" in attrs and attrs.get("type") not in ("submit", "button"):
            value = attrs.get("value", "on" if attrs.get("type") == "checkbox" else "")
            self.current.fields.append((attrs["name"], value, attrs))
        elif tag == "button":
            self.current.buttons.append(attrs)
        elif tag == "select" and "name" in attrs:
            self.select, self.options = (attrs["name"], attrs), []
        elif tag == "option" and self.select is not None:
            self.options.append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "textarea" and "name" in attrs:
            self.textarea, self.text = (attrs["name"], attrs), ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.template -= 1
        if self.template or self.current is None:
            return
        if tag == "form":
            self.current = None
        elif tag == "select" and self.select is not None:
            chosen = [v for v, on in self.options if on] or [v for v, _ in self.options[:1]]
            self.current.fields.append((self.select[0], chosen[0] if chosen else "",
                                        self.select[1]))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.current.fields.append((self.textarea[0], self.text, self.textarea[1]))
            self.textarea = None


def forms(html: str) -> list[Form]:
    reader = _Reader()
    reader.feed(html)
    return reader.forms


def form(html: str, mutation: str, index: int = 0) -> Form:
    """The `index`-th form of the page that posts `mutation`."""
    found = [f for f in forms(html) if f.attrs.get("data-mutation") == mutation]
    assert len(found) > index, (mutation, [f.attrs.get("data-mutation") for f in forms(html)])
    return found[index]


async def submit(client: Any, action: str, pairs: list[tuple[str, str]],
                 origin: str = "http://testserver") -> Any:
    """POST the pairs as a browser does (urlencoded, repeated names kept, its Origin)."""
    return await client.post(action, content=urlencode(pairs).encode(), headers={
        "origin": origin, "content-type": "application/x-www-form-urlencoded"})
