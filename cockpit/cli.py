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
from pathlib import Path
from typing import TextIO

from cockpit import __version__
from cockpit.paths import state_dir
from cockpit.text import clean

# Command name -> (module, one-line help). Only the command being run is imported (its
# module registers its full subparser); every other one is a cheap stub that lists it in
# `cockpit --help`, so `cockpit --version` or `cockpit note` never import the engine, the
# TUI or croniter. Adding a command is one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "tui": ("cockpit.commands.tui", "the interactive cockpit (default command)"),
    "demo": ("cockpit.commands.demo", "open the cockpit on the embedded sandbox (created on first use)"),
    "sandbox": ("cockpit.commands.sandbox", "create a sandbox to drill the rollback on"),
    "check": ("cockpit.commands.check", "validate the plan and try every connection (exit 0, 2 or 3)"),
    "status": ("cockpit.commands.status", "one snapshot of all live state"),
    "steps": ("cockpit.commands.steps", "list a phase's steps with status and guards"),
    "run": ("cockpit.commands.run", "dry-run (default) or execute one step"),
    "backup-full": ("cockpit.commands.backup_full", "dump the whole target database (dry-run unless --execute)"),
    "emergency": ("cockpit.commands.emergency", "turn every flag off (dry-run unless --execute)"),
    "tick": ("cockpit.commands.tick", "tick (or untick) a checklist item of a phase"),
    "note": ("cockpit.commands.note", "journal a note"),
    "log": ("cockpit.commands.log", "append the rollback log entry for a phase"),
    "journal": ("cockpit.commands.journal_cmd", "print the journal in order"),
    "drill": ("cockpit.commands.drill", "start, end and score a marked drill"),
    "smoke": ("cockpit.commands.smoke", "run the plan's smoke checks"),
    "watch": ("cockpit.commands.watch", "the headless 24-48 h watch (foreground, --detach, --stop, --extend)"),
    "alerts": ("cockpit.commands.alerts", "the watch's alerts"),
    "ack": ("cockpit.commands.alerts", "acknowledge an alert"),
}

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE
EXIT_INTERRUPTED = 130  # 128 + SIGINT
MESSAGE_LIMIT = 500


def _command_in(argv: list[str]) -> str | None:
    """The command an argument list runs: its first word that names one."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: the full subparser of the command it runs, stubs for the
    rest. With `argv` None every command is registered in full (for docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="cockpit",
        description="Roll the platform back safely, phase by phase (10 -> 7), and watch it afterwards.",
    )
    parser.add_argument("--version", action="version", version=f"rollback-cockpit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _command_in(argv) if argv is not None else None
    # one module may register several commands (alerts + ack): import each module once,
    # and give a stub only to names no imported module registered
    modules = list(dict.fromkeys(module for name, (module, _) in COMMANDS.items() if argv is None or name == wanted))
    for module_name in modules:
        importlib.import_module(module_name).register(subparsers)
    for name, (module_name, help_text) in COMMANDS.items():
        if module_name not in modules:
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


class CleanStream(io.TextIOBase):
    """A text stream that cleans every write: escape sequences and control characters
    never reach the terminal; newlines and tabs stay. Everything else is delegated, so
    `isatty()`, `fileno()` and `encoding` still describe the real stream."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, text: str) -> int:
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
    def encoding(self) -> str:  # type: ignore[override]  # typeshed: a plain attribute; here read-only, the inner stream's
        return getattr(self.inner, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]  # as `encoding`
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
            import traceback  # only when crashing: `cockpit --version` and every command start without it

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
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, BrokenPipeError):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _run(argv: list[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(words).parse_args(words)
    if not getattr(args, "handler", None):
        # bare `cockpit` opens the TUI on ./phases.toml, as the design's CLI contract says
        words = ["tui", *words]
        args = build_parser(words).parse_args(words)
    return int(args.handler(args) or 0)


def main(argv: list[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CleanStream(out), CleanStream(err)
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
