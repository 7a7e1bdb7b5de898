"""The console stays English for now, but every word it shows must be extractable: a console
template holds no visible English outside a gettext call (text, attributes people read or
hear, and the words passed to macros)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parents[2] / "web" / "templates" / "console"
# Attributes a person reads or hears (or a confirm dialog shows).
SHOWN = {"placeholder", "title", "aria-label", "alt", "data-confirm", "data-what", "data-done",
         "label"}
EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)
STATEMENT = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)
LITERAL = re.compile(r"""(["'])((?:(?!\1).)*)\1""")
TRANSLATED = re.compile(r"""(?:\b(?:_|gettext|ngettext)\(|\bngettext\(\s*"[^"]*",)\s*$""")
# Words that are not English text: proper names and symbols shown as they are.
AS_IS = re.compile(r"^[\s\W\d]*$|^(?:Heliograph|GraphQL|IANA|JSON|Slack|Feishu|DingTalk|"
                   r"WeCom|Microsoft Teams|Discord|Alertmanager|Grafana)$")


def _english(text: str) -> bool:
    text = text.strip()
    return bool(re.search(r"[A-Za-z]{2}", text)) and not AS_IS.match(text)


def _literals(source: str) -> list[str]:
    """String literals inside `{{ … }}` and `{% … %}` that read as words and are not the
    argument of a gettext call."""
    found = []
    for block in EXPRESSION.findall(source) + STATEMENT.findall(source):
        if block.startswith("{#"):
            continue
        for match in LITERAL.finditer(block):
            word = match.group(2)
            # a value shown in place of another (`x or "…"`, `"…" if c else …`) is text too
            shown_instead = re.search(r"\b(?:or|else)\s*$", block[:match.start()]) or \
                re.match(r"\s+if\b", block[match.end():])
            looks_like_words = (" " in word.strip() or re.match(r"^\(?[A-Z][a-z]", word)
                                or shown_instead)
            if not looks_like_words or not _english(word):
                continue
            if TRANSLATED.search(block[:match.start()]):
                continue
            found.append(word)
    return found


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):  # code is shown as it is typed
            self.skip += 1
        named = dict(attrs)
        for key, value in attrs:
            shown = key in SHOWN or (key == "value" and named.get("name") == "_confirm")
            if shown and value and _english(value):
                self.found.append(f'{key}="{value}"')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and _english(data):
            self.found.append(data.strip())


def untranslated(source: str) -> list[str]:
    words = _literals(source)
    bare = STATEMENT.sub(" ", EXPRESSION.sub(" ", source))
    reader = _Visible()
    reader.feed(bare)
    return words + reader.found


def test_the_checker_finds_english_outside_gettext() -> None:
    assert untranslated('<p>{{ _("Fine") }} Not fine</p>') == ["Not fine"]
    assert untranslated('<b aria-label="Move {{ c.name }} up">') == ['aria-label="Move   up"']
    assert untranslated('<b aria-label="{{ _("Move %(n)s up", n=c.name) }}">') == []
    assert untranslated('{{ text_field("title", "Title") }}') == ["Title"]
    assert untranslated('{{ text_field("title", _("Title")) }}') == []
    assert untranslated('{% block heading %}New incident{% endblock %}') == ["New incident"]
    assert untranslated('<option value="PUBLIC">{{ _("Public") }}</option>') == []
    assert untranslated('{{ t.name or "(unnamed)" }} {{ x if y else "never" }}') == [
        "(unnamed)", "never"]


@pytest.mark.parametrize("name", sorted(p.name for p in CONSOLE.glob("*.html")))
def test_no_console_template_shows_english_outside_gettext(name: str) -> None:
    assert untranslated((CONSOLE / name).read_text()) == []


def test_the_console_catalogue_holds_every_wrapped_string() -> None:
    """`make messages` was run: what the templates wrap is in i18n/locale/console.pot."""
    from babel.messages.pofile import read_po

    pot = CONSOLE.parents[2] / "i18n" / "locale" / "console.pot"
    with pot.open("rb") as handle:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    wrapped = set()
    for path in CONSOLE.glob("*.html"):
        wrapped |= set(re.findall(r'\b_\("((?:[^"\\]|\\.)*)"', path.read_text()))
    assert "Page settings" in wrapped
    assert wrapped <= known, sorted(wrapped - known)
