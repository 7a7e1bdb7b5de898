"""One word list: the scripts that redraw the page live must say what the server says
(models/words.py), which is also what mail and IM say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models.enums import ComponentStatus
from models.words import STATUS_WORDS

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


@pytest.mark.parametrize("script", ["bars.js", "live.js"])
def test_the_pages_scripts_use_the_same_status_words(script: str) -> None:
    source = (STATIC / script).read_text()
    block = re.search(r"var WORDS = \{(.*?)\};", source, re.S)
    assert block is not None
    words = dict(re.findall(r'([A-Z_]+): "([^"]+)"', block.group(1)))
    assert words == {s.value: STATUS_WORDS[s.value] for s in ComponentStatus}
