"""Read a plan file without trusting what the path points at.

`--config` is operator input, and on a shared bastion a path can be a FIFO (opening it
for reading blocks until a writer comes), a device (`/dev/zero` never ends), a directory
or a file of gigabytes. Only a small regular file is read: the kind is checked with
`stat` before opening, the open cannot block (O_NONBLOCK), the opened file is checked to
be the one that was stat'ed, and the read is bounded.

The TOML parser recurses once per nested array or inline table, so a few thousand `[`
end in RecursionError; `nesting_error` finds too-deep nesting, with its line, first.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .errors import PlanError

MAX_PLAN_BYTES = 256 * 1024  # ~10x the real plan; tomllib needs seconds per MiB on a busy bastion
MAX_NESTING = 16  # arrays and inline tables inside each other; the plan needs 3
MAX_DIGITS = 40  # no number in a plan needs more; Python refuses > 4300 with ValueError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def read_plan_text(path: Path) -> str:
    """The plan's text, or PlanError with one line. Never blocks, never reads more than
    MAX_PLAN_BYTES + 1 bytes."""
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise PlanError(path, None, "no such plan file (use --config to name one)") from None
    except OSError as exc:
        raise PlanError(path, None, f"cannot read the plan: {exc.strerror or exc.__class__.__name__}") from None
    if not stat.S_ISREG(before.st_mode):
        raise PlanError(path, None, f"cannot read the plan: it is {_kind(before.st_mode)}, not a regular file")
    if before.st_size > MAX_PLAN_BYTES:
        raise PlanError(path, None, f"cannot read the plan: {before.st_size} bytes, over the {MAX_PLAN_BYTES} byte limit")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise PlanError(path, None, f"cannot read the plan: {exc.strerror or exc.__class__.__name__}") from None
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
            raise PlanError(path, None, "cannot read the plan: the file was replaced while it was opened")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_PLAN_BYTES:
            chunk = os.read(fd, min(65536, MAX_PLAN_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise PlanError(path, None, f"cannot read the plan: {exc.strerror or exc.__class__.__name__}") from None
    finally:
        os.close(fd)
    if size > MAX_PLAN_BYTES:
        raise PlanError(path, None, f"cannot read the plan: over the {MAX_PLAN_BYTES} byte limit")
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PlanError(path, line, f"cannot read the plan: not UTF-8 text (byte 0x{data[exc.start]:02x})") from None


def nesting_error(text: str) -> tuple[int, str] | None:
    """(line, message) for the first place arrays/inline tables nest deeper than
    MAX_NESTING or a number has more than MAX_DIGITS digits, else None. Strings and
    comments are skipped, so brackets inside them do not count."""
    depth = 0
    dots = 0  # dots in the current key or value: `a.b.c.d = 1` nests (and tomllib is quadratic in it)
    line = 1
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in _SEGMENT_END:
            dots = 0
        if ch == "\n":
            line += 1
        elif ch == ".":
            dots += 1
            if dots > MAX_NESTING:
                return line, f"a dotted key of more than {MAX_NESTING} parts"
        elif ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch in "\"'":
            i, line = _skip_string(text, i, line)
            continue
        elif ch in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return line, f"arrays or inline tables nested deeper than {MAX_NESTING} levels"
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch.isdigit() and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_.")):
            match = _NUMBER.match(text, i)
            assert match is not None
            if len(match.group(0).replace("_", "")) > MAX_DIGITS:
                return line, f"a number with more than {MAX_DIGITS} digits"
            i = match.end()
            continue
        i += 1
    return None


_SEGMENT_END = frozenset("=,[]{}\n")
_NUMBER = re.compile(r"[0-9A-Za-z_]+")


def _skip_string(text: str, start: int, line: int) -> tuple[int, int]:
    """Index after the string that opens at `start`, and the line count after it."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = start + 3
        while True:
            found = text.find(quote * 3, end)
            if quote == '"':
                while found >= 0 and _escaped(text, found):
                    found = text.find(quote * 3, found + 1)
            if found < 0:
                return len(text), line + text.count("\n", start)
            close = found + 3
            while close < len(text) and text[close] == quote and close - found < 5:
                close += 1  # up to two quotes right before the delimiter belong to the string
            return close, line + text.count("\n", start, close)
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quote == '"':
            i += 2
            continue
        if ch == quote:
            return i + 1, line
        if ch == "\n":  # unterminated: let the TOML parser report it
            return i, line
        i += 1
    return i, line


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1
