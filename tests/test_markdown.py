"""One Markdown renderer (models/markdown.py), two dialects: the page's (line breaks, tables,
strikethrough, a short tag list, nofollow links) and the mail's (plain CommonMark)."""

from __future__ import annotations

import pytest

from models.markdown import mail_html, page_html

pytestmark = pytest.mark.onepass

MESSAGE = "**Slow**\nnow <script>alert(1)</script> [a](javascript:x) [b](https://e.com)"
TABLE = "| a | b |\n|-|-|\n| 1 | 2 |"


def test_the_page_breaks_lines_and_marks_links_nofollow_and_never_passes_raw_html() -> None:
    assert str(page_html(MESSAGE)) == (
        "<p><strong>Slow</strong><br>\nnow &lt;script&gt;alert(1)&lt;/script&gt; [a](javascript:x)"
        ' <a href="https://e.com" rel="nofollow noopener noreferrer">b</a></p>\n')


def test_the_page_shows_tables_and_strikethrough() -> None:
    assert str(page_html(TABLE)) == (
        "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n")
    assert str(page_html("~~gone~~")) == "<p><s>gone</s></p>\n"


def test_a_mail_reads_plain_commonmark_and_never_passes_raw_html() -> None:
    assert mail_html(MESSAGE) == (
        "<p><strong>Slow</strong>\nnow &lt;script&gt;alert(1)&lt;/script&gt; [a](javascript:x)"
        ' <a href="https://e.com" rel="noopener noreferrer">b</a></p>\n')
    assert mail_html(TABLE) == "<p>| a | b |\n|-|-|\n| 1 | 2 |</p>\n"
    assert mail_html("~~gone~~") == "<p>~~gone~~</p>\n"
