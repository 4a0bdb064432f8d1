"""The `cockpit` entry point: argparse over the command modules in cockpit/commands/.

Any exception that escapes a command is a bug, but the operator still gets one line: the
traceback goes to a crash file whose path is printed, never onto the SSH screen.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

from cockpit import __version__
from cockpit.paths import state_dir

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
    "watch",
    "alerts",
)


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


def _crash_file(exc: BaseException) -> Path | None:
    try:
        folder = state_dir() / "crashes"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return path
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        # bare `cockpit` opens the TUI on ./phases.toml, as the design's CLI contract says
        args = parser.parse_args(["tui", *(argv if argv is not None else sys.argv[1:])])
    try:
        return int(args.handler(args) or 0)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        print("cockpit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line, details in a file
        where = _crash_file(exc)
        detail = f" (details in {where})" if where else ""
        print(f"cockpit: internal error: {exc.__class__.__name__}: {exc}{detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
