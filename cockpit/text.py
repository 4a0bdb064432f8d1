"""Untrusted text made safe to show: one place that knows what a terminal must never see.

The cockpit shows text it did not write — error-log lines, crontab lines, SQL of other
sessions, flag values, plan fields, operator notes, server error messages.  Such text can
hold terminal escape sequences (clear the screen, retitle the terminal, move the cursor and
spoof a line), raw control bytes, invalid UTF-8, or Rich/Textual markup (`[/]` raises
MarkupError, `mv_[a-z_]+` loses its brackets).  The rule (issue 10): every such string goes
through `clean()` before it reaches a terminal, a human view of the journal, the Markdown
log or stderr, and it is rendered as plain text (`plain()`/`content()`), never parsed as
markup.  The journal itself keeps the original bytes; only views sanitize.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Rich and Textual are imported lazily: the CLI's start-up stays light
    from rich.text import Text
    from textual.content import Content

__all__ = [
    "ELLIPSIS",
    "clean",
    "content",
    "escape_markup",
    "md_code",
    "md_escape",
    "plain",
]

ELLIPSIS = "…"

# Whole escape sequences, so that their parameters do not survive as visible junk
# ("\x1b]0;pwned\x07" must vanish entirely, not leave "]0;pwned").  Both the 7-bit
# (ESC-prefixed) and the 8-bit C1 introducers are covered.
#   CSI: ESC [ | \x9b, parameter bytes 0x30-0x3F, intermediates 0x20-0x2F, final 0x40-0x7E.
#   OSC/DCS/SOS/PM/APC: ESC ] P X ^ _ | \x9d \x90 \x98 \x9e \x9f, a string ended by BEL or
#     ST (ESC \ or \x9c), removed with its payload. An unterminated one loses only its
#     introducer: what follows is then plain text, harmless, and stays readable.
#   Any other ESC: ESC, intermediates, one final byte (ESC ( B, ESC 7, ESC c ...).
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x90\x98\x9b-\x9f\n]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
# Everything a terminal may act on that is left once the sequences are gone: C0 except tab
# and newline, DEL, C1, and the Unicode controls that reorder or hide text on screen (bidi
# overrides/isolates used for "Trojan Source" spoofing, the line/paragraph separators).
_CONTROL_KEEP_TAB_NL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
_NEWLINES = re.compile("\r\n|\r|\u2028|\u2029|\u0085")
# Lone surrogates (undecodable argv bytes under surrogateescape) cannot be encoded for a
# terminal or a file: shown as U+FFFD like any other invalid UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _to_str(text: object) -> str:
    """Any value to a str: bytes are decoded as UTF-8, bad bytes become U+FFFD."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text).decode("utf-8", errors="replace")
    return str(text)


def clean(text: object, multiline: bool = False, limit: int | None = None) -> str:
    """Return `text` with nothing a terminal would act on, ready for any human view.

    Bytes are decoded as UTF-8 with replacement.  Escape sequences (CSI, OSC, DCS ...) are
    removed whole, then every remaining control character.  With `multiline`, newlines
    stay (CR LF and lone CR become LF, since a lone CR lets a line overwrite itself) and
    tabs stay; otherwise line breaks and tabs become single spaces so a one-line field
    stays one line.  `limit` cuts the result to at most `limit` characters, the last one
    an ellipsis, so a huge log line cannot flood a view.
    """
    s = _to_str(text)
    if s.isprintable() and (limit is None or len(s) <= limit):
        return s  # the common case: nothing to do
    s = _SEQUENCE.sub("", s)
    s = _SURROGATE.sub("\ufffd", s)
    s = _NEWLINES.sub("\n", s)
    s = _CONTROL_KEEP_TAB_NL.sub("", s)
    if not multiline:
        s = s.replace("\n", " ").replace("\t", " ")
    if limit is not None and len(s) > limit:
        s = s[: max(limit - 1, 0)] + ELLIPSIS if limit > 0 else ""
    return s


def plain(
    text: object, style: str = "", multiline: bool = False, limit: int | None = None
) -> Text:
    """A Rich `Text` holding cleaned `text` literally: brackets are never read as markup."""
    from rich.text import Text

    return Text(clean(text, multiline=multiline, limit=limit), style=style)


def content(text: object, multiline: bool = False, limit: int | None = None) -> Content:
    """A Textual `Content` holding cleaned `text` literally (for Static/Label/notify).

    Textual is imported here, not at the top, so that importing this module (the CLI
    does) does not import Textual.
    """
    from textual.content import Content

    return Content(clean(text, multiline=multiline, limit=limit))


def escape_markup(text: object, multiline: bool = False, limit: int | None = None) -> str:
    """Cleaned `text` escaped for Textual markup, for the places that must build a markup
    string (an f-string around styled values).  Prefer `content()`/`plain()`.

    Textual's own `textual.markup.escape` only escapes tag-like brackets: an unterminated
    `[/` still raises MarkupError and a trailing backslash escapes the next tag's bracket.
    Textual's tokenizer opens a tag at every `[` not preceded by a backslash and turns
    every `\\[` back into `[`, so escaping every bracket is exact; a trailing backslash
    gets a zero-width space after it so it cannot escape the closing tag that follows.
    """
    s = clean(text, multiline=multiline, limit=limit).replace("[", "\\[")
    return s + "\u200b" if s.endswith("\\") else s


# What lets a one-line value change a Markdown document's structure: code spans, emphasis,
# links/images (an image can make a viewer fetch a URL), raw HTML, table cell breaks, and
# the escape character itself. Headings, lists and quotes only start a line, and a cleaned
# one-line value never does. Intraword `_` is not emphasis in CommonMark, so table names
# like mv_daily_stats stay readable in the raw file.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|])")


def md_escape(text: object, limit: int | None = None) -> str:
    """Cleaned one-line `text` for inline Markdown: metacharacters backslash-escaped, so a
    note cannot inject a link, an image, HTML or a table cell break into the log."""
    return _MD_SPECIAL.sub(r"\\\1", clean(text, limit=limit))


def md_code(text: object, limit: int | None = None) -> str:
    """Cleaned one-line `text` as an inline code span whose fence is longer than any
    backtick run inside it (CommonMark), so it shows literally."""
    s = clean(text, limit=limit)
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"
