"""Run the real `cockpit` CLI in a child process, as an operator's shell would.

The fault tests need the real process boundary: exit codes, what reaches stdout/stderr,
and a process that can be SIGKILLed mid-action. Running `python -m cockpit` from the
repository root with the test interpreter keeps it the code under test, not an install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 90
# credentials' sources and the test hooks (cockpit/faults.py) reach a child only when a test passes them
STRIPPED = ("MYSQL_PWD", "COCKPIT_MYSQL_USER", "COCKPIT_FAULT", "COCKPIT_FAULT_READY")


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def json(self):
        return json.loads(self.stdout)

    def __str__(self) -> str:  # shown by pytest when an assertion about it fails
        return f"cockpit {' '.join(self.argv)} -> {self.code}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"


def cockpit_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment minus anything that would change where credentials come
    from; tests say explicitly what they add."""
    env = {k: v for k, v in os.environ.items() if k not in STRIPPED}
    env.setdefault("COCKPIT_OPERATOR", "fault-op")
    env.update(extra or {})
    return env


def argv_of(*args: str) -> list[str]:
    return [sys.executable, "-m", "cockpit", *args]


def run(*args: str, env: Mapping[str, str] | None = None, timeout: float = CLI_TIMEOUT_S) -> Result:
    proc = subprocess.run(argv_of(*args), cwd=ROOT, env=cockpit_env(env), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    return Result(tuple(args), proc.returncode, proc.stdout, proc.stderr)


def run_many(commands: Iterable[tuple[str, ...]], env: Mapping[str, str] | None = None, workers: int = 6) -> list[Result]:
    """Many independent CLI runs at once (each is mostly interpreter start-up)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda argv: run(*argv, env=env), list(commands)))


def start(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen:
    """A CLI process left running, for a test to kill."""
    return subprocess.Popen(argv_of(*args), cwd=ROOT, env=cockpit_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def wait_until(predicate, timeout: float = 20.0, poll: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
