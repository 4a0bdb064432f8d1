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
    "emergency": ("cockpit.commands.emergency", "turn every flag off (dry-run unless --execute)"),
    "tick": ("cockpit.commands.tick", "tick (or untick) a checklist item of a phase"),
    "note": ("cockpit.commands.note", "journal a note"),
    "log": ("cockpit.commands.log", "append the rollback log entry for a phase"),
    "journal": ("cockpit.commands.journal_cmd", "print the journal in order"),
}


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
    for name, (module_name, help_text) in COMMANDS.items():
        if argv is None or name == wanted:
            importlib.import_module(module_name).register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text, add_help=False)
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
    words = list(argv if argv is not None else sys.argv[1:])
    args = build_parser(words).parse_args(words)
    if not getattr(args, "handler", None):
        # bare `cockpit` opens the TUI on ./phases.toml, as the design's CLI contract says
        words = ["tui", *words]
        args = build_parser(words).parse_args(words)
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
