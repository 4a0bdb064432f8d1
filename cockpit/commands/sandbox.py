"""`cockpit sandbox init DIR`: the embedded drill target, on SQLite or on a staging MySQL."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.commands.common import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNREACHABLE, fail
from cockpit.plan.names import IDENTIFIER

if TYPE_CHECKING:
    from cockpit.sandbox import MysqlSpec


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sandbox", help="create a sandbox to drill the rollback on")
    actions = parser.add_subparsers(dest="sandbox_action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="create a sandbox in DIR and print the path of its config")
    init.add_argument("directory", metavar="DIR")
    init.add_argument("--plan", metavar="F", help="the plan to drill (default: the shipped phases.toml)")
    init.add_argument("--mysql", metavar="HOST:PORT/DATABASE", help="put the sandbox's tables in this EMPTY MySQL/MariaDB database")
    init.add_argument("--user", metavar="USER", help="MySQL user (password from MYSQL_PWD, the option file or a prompt)")
    init.add_argument("--option-file", metavar="F", help="MySQL option file with a [client] section (user, password)")
    init.set_defaults(handler=main)


def parse_mysql_spec(text: str, user: str | None, option_file: str | None = None) -> MysqlSpec:
    """`host:port/database` (port optional) into a MysqlSpec; bad text exits 2."""
    from cockpit.sandbox import MysqlSpec

    match = re.fullmatch(rf"(?P<host>[^:/]+)(?::(?P<port>\d+))?/(?P<database>{IDENTIFIER.pattern})", text)
    if not match:
        fail(f"--mysql must look like HOST:PORT/DATABASE, got \"{text}\"", EXIT_BAD_INPUT)
    return MysqlSpec(host=match["host"], port=int(match["port"] or 3306), database=match["database"], user=user or "",
                     option_file=option_file or "")


def main(args: argparse.Namespace) -> int:
    from cockpit.db.errors import DatabaseError
    from cockpit.plan import PlanError
    from cockpit.sandbox import SandboxError, create_sandbox

    mysql = None
    if args.mysql:
        mysql = parse_mysql_spec(args.mysql, args.user, args.option_file)
    try:
        result = create_sandbox(Path(args.directory), plan_path=Path(args.plan) if args.plan else None, mysql=mysql)
    except PlanError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except SandboxError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except DatabaseError as exc:
        fail(str(exc), EXIT_UNREACHABLE)
    print(result.message, file=sys.stderr)
    print(f"drill on it with --config {result.config_path} (or COCKPIT_CONFIG={result.config_path})", file=sys.stderr)
    print(result.config_path)
    return EXIT_OK
