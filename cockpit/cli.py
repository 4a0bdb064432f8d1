"""The `cockpit` entry point: argparse over the command modules in cockpit/commands/.

Any exception that escapes a command is a bug, but the operator still gets one line: the
traceback goes to an owner-only crash file whose path is printed, never onto the SSH
screen. Three endings are not bugs and get no crash file:

- a closed pipe (`cockpit journal | head`, `| grep -q`): the command ends quietly with
  exit status 141 (128 + SIGPIPE), what the shell reports for any tool killed by SIGPIPE,
  so `set -o pipefail` scripts see the same thing as with `cat`; stdout is pointed at
  /dev/null first, as the Python docs recommend, so the interpreter's final flush cannot
  complain either;
- running out of memory, or recursion too deep, on a hostile input the loader did not
  stop: one line naming the problem, exit 1;
- Ctrl+C: exit 130.

Everything the commands print goes through `cockpit.text.clean`: stdout and stderr are
wrapped for the command's duration, so a note, another session's SQL or a server error
copied into a line cannot clear the screen or retitle the terminal, whichever command
prints it (including `fail()` and argparse's own error lines).
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TextIO

from cockpit import __version__
from cockpit.paths import state_dir
from cockpit.text import clean

COMMAND_MODULES = (
    "tui",
    "demo",
    "sandbox",
    "check",
    "status",
    "steps",
    "run",
    "emergency",
    "tick",
    "note",
    "log",
    "journal_cmd",
    "drill",
    "smoke",
    "watch",
    "alerts",
)

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE
EXIT_INTERRUPTED = 130  # 128 + SIGINT
MESSAGE_LIMIT = 500


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cockpit",
        description="Roll the platform back safely, phase by phase (10 -> 7), and watch it afterwards.",
    )
    parser.add_argument("--version", action="version", version=f"rollback-cockpit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"cockpit.commands.{name}")
        module.register(subparsers)
    return parser


class CleanStream(io.TextIOBase):
    """A text stream that cleans every write: escape sequences and control characters
    never reach the terminal; newlines and tabs stay. Everything else is delegated, so
    `isatty()`, `fileno()` and `encoding` still describe the real stream."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, text: str) -> int:  # type: ignore[override]
        self.inner.write(clean(text, multiline=True))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.inner, "errors", None)


def _crash_file(exc: BaseException) -> Path | None:
    """The traceback in an owner-only file (it may name paths and values of a production
    system; the bastion is shared)."""
    try:
        folder = state_dir() / "crashes"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
        path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("".join(traceback.format_exception(exc)))
        return path
    except (OSError, MemoryError, RecursionError):
        return None


def _say(line: str) -> None:
    """One line on stderr; a stderr that is itself a closed pipe is not worth a crash."""
    try:
        print(f"cockpit: {clean(line, limit=MESSAGE_LIMIT)}", file=sys.stderr)
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """After EPIPE: point stdout's descriptor at /dev/null so nothing else fails on it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _is_broken_pipe(exc: BaseException) -> bool:
    """A closed pipe, also when a command wrapped it in another exception."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, BrokenPipeError):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
    return False


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        # bare `cockpit` opens the TUI on ./phases.toml, as the design's CLI contract says
        args = parser.parse_args(["tui", *(argv if argv is not None else sys.argv[1:])])
    return int(args.handler(args) or 0)


def main(argv: list[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CleanStream(out), CleanStream(err)  # type: ignore[assignment]
    try:
        try:
            code = _run(argv)
            sys.stdout.flush()  # a closed pipe shows up here when the output was short
            return code
        finally:
            sys.stdout, sys.stderr = out, err
    except SystemExit:
        raise
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except MemoryError:
        _say("out of memory: an input (the plan, a log, a crontab) is far too large")
        return 1
    except RecursionError:
        _say("an input is nested far too deeply to be read (RecursionError)")
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, details in a file
        if _is_broken_pipe(exc):
            _silence_stdout()
            return EXIT_BROKEN_PIPE
        where = _crash_file(exc)
        detail = f" (details in {where})" if where else ""
        _say(f"internal error: {exc.__class__.__name__}: {exc}{detail}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
