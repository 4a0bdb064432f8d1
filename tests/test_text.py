"""`cockpit.text`: the exact cases the issue reported, as readable examples (the fuzz
suite covers the space around them)."""

from __future__ import annotations

import pytest
from textual.content import Content

from cockpit.text import clean, content, escape_markup, md_code, md_escape, plain


@pytest.mark.parametrize(
    ("raw", "single", "multi"),
    [
        ("\x1b]0;pwned title\x07after", "after", "after"),  # retitle: the payload goes too
        ("\x1b[2J\x1b[Hclear", "clear", "clear"),  # clear screen, cursor home
        ("\x1b]8;;https://evil\x1b\\link\x1b]8;;\x1b\\", "link", "link"),  # hyperlink
        ("\x9b31mred\x9d0;t\x9cok", "redok", "redok"),  # 8-bit C1 CSI and OSC
        ("\x1bP1$r\x1b\\dcs", "dcs", "dcs"),
        ("bell\x07 del\x7f nul\x00", "bell del nul", "bell del nul"),
        ("a\r\nb\rc\td", "a b c d", "a\nb\nc\td"),  # a lone CR cannot overwrite a line
        ("\u202egnp.exe", "gnp.exe", "gnp.exe"),  # bidi override
        (b"bad \xff\xfe utf8", "bad \ufffd\ufffd utf8", "bad \ufffd\ufffd utf8"),
        ("x\udcffy", "x\ufffdy", "x\ufffdy"),  # undecodable argv byte
        ("unterminated \x1b]0;rest stays", "unterminated 0;rest stays", "unterminated 0;rest stays"),
        ("[/] mv_[a-z_]+ [bold", "[/] mv_[a-z_]+ [bold", "[/] mv_[a-z_]+ [bold"),  # markup is just text
        (None, "", ""),
        (42, "42", "42"),
    ],
)
def test_clean(raw: object, single: str, multi: str) -> None:
    assert clean(raw) == single
    assert clean(raw, multiline=True) == multi


def test_limit_ends_with_an_ellipsis() -> None:
    assert clean("abcdef", limit=4) == "abc…"
    assert clean("abc", limit=4) == "abc"
    assert clean("abc", limit=0) == ""


@pytest.mark.parametrize("text", ["[/]", "mv_[a-z_]+", "[/", "trailing\\", "\\[b]", "[$accent]x", "[@click=app.quit]q"])
def test_escape_markup_round_trips_through_textual(text: str) -> None:
    assert Content.from_markup(f"[b]{escape_markup(text)}[/b]").plain.replace("\u200b", "") == text
    assert plain(text).plain == text
    assert content(text).plain == text


def test_markdown_helpers() -> None:
    assert md_escape("![img](http://x) <b>|`") == "!\\[img\\](http://x) \\<b\\>\\|\\`"
    assert md_escape("mv_daily_stats") == "mv_daily_stats"  # intraword _ stays readable
    assert md_code("a`b") == "``a`b``"
