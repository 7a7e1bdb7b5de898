"""Rows the plain-fields executor (schema.plain_fields) keeps or writes pre-encoded: a
resolver's list whose fixed items' rows are completed once (`MemoList`), and JSON text that
`encode_json` splices into an HTTP answer where a `RawJSON` stands (kept past bars' rows)."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

MAX_SHAPES = 2  # selections remembered per MemoList memo (~0.4 kB a kept bar each)
BIG_LIST = 64  # items completed with the cyclic collector paused (rows form no cycles)


class MemoList(list[Any]):
    """A resolver's list whose first `fixed` items never change, nor does anything their
    plain fields reach. Completing it, the executor keeps those items' rows in `memo` (per
    type and selection, built from the document, never from the request) and reuses them: the
    resolver hands the same `memo` with the same items on every request. The rows are shared
    between answers, which nobody modifies."""

    __slots__ = ("fixed", "memo")

    def __init__(self, items: list[Any], *, memo: dict[Any, list[Any]], fixed: int) -> None:
        super().__init__(items)
        self.memo = memo
        self.fixed = fixed


class RawJSON:
    """Items already encoded as JSON, joined by commas without brackets: `encode_json` writes
    them into the answer where this object stands in a list. Only executions whose context
    says `json_fragments` (the HTTP endpoint, which encodes with `encode_json`) get them."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_TOKEN = "\x00heliograph-json-" + secrets.token_hex(8) + "-"  # never in a request's data
_TOKEN_JSON = re.compile(re.escape(json.dumps(_TOKEN))[:-1] + r'(\d+)\\u0000"')


def encode_json(data: object) -> str:
    """strawberry's encoding (compact JSON), with RawJSON fragments spliced in."""
    fragments: list[str] = []

    def spliced(value: object) -> str:
        if isinstance(value, RawJSON):
            fragments.append(value.text)
            return f"{_TOKEN}{len(fragments) - 1}\x00"
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    text = json.dumps(data, separators=(",", ":"), default=spliced)
    if not fragments:
        return text
    return _TOKEN_JSON.sub(lambda found: fragments[int(found.group(1))], text)


def fragment(rows: list[Any]) -> RawJSON:
    return RawJSON(json.dumps(rows, separators=(",", ":"))[1:-1])
