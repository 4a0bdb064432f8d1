"""Helpers for the watcher tests: the real `cockpit watch` as a subprocess, the journal it
writes, and a local HTTP endpoint that apprise's `json://` posts to (ok, failing, hanging)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cockpit.journal import Event, Journal
from cockpit.plan import load_plan

ROOT = Path(__file__).resolve().parents[1]
FAST = {
    "COCKPIT_WATCH_REFRESH": "0.1",
    "COCKPIT_WATCH_HEARTBEAT": "0.3",
    "COCKPIT_NOTIFY_TIMEOUT": "0.6",
    "COCKPIT_NOTIFY_RETRIES": "3",
    "COCKPIT_NOTIFY_BACKOFF": "0.05",
}


def watch_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COCKPIT_NOTIFY", "COCKPIT_WATCH", "NOTIFY_SOCKET", "WATCHDOG"))}
    env.update(FAST)
    env["XDG_STATE_HOME"] = str(tmp / "state")
    env["COCKPIT_OPERATOR"] = "watcher-test"
    env.update(extra)
    return env


def cli(config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cockpit", *args, "--config", str(config)], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


class WatcherProcess:
    """`cockpit watch` in the foreground, as systemd would run it."""

    def __init__(self, config: Path, env: dict[str, str], *args: str) -> None:
        self.log = Path(env["XDG_STATE_HOME"]).parent / f"watcher-{time.monotonic_ns()}.out"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "cockpit", "watch", "--config", str(config), *args],
                                         cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_output(self, text: str, timeout: float = 15) -> None:
        wait_for(lambda: text in self.output, timeout, lambda: f"no {text!r} in watcher output:\n{self.output}")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def wait(self, timeout: float = 15) -> int:
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def wait_for(predicate: Callable[[], Any], timeout: float = 15, why: Callable[[], str] | str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(why() if callable(why) else f"timed out waiting for {why}")


def events(config: Path, *kinds: str) -> list[Event]:
    plan = load_plan(config)
    journal = Journal(plan.paths.journal, plan.target.label, "test")
    try:
        return journal.events(kinds=kinds or None)
    finally:
        journal.close()


def set_flag_sqlite(db: Path, key: str, value: int) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE feature_flag SET enabled = ? WHERE flag_key = ?", (value, key))


class Endpoint:
    """A local webhook: records each JSON body; `fail_next` answers 500 that many times,
    `hang` makes every request wait that many seconds before answering."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.attempts = 0
        self.fail_next = 0
        self.hang = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.attempts += 1
                if outer.hang:
                    time.sleep(outer.hang)
                if outer.fail_next > 0:
                    outer.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.received.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_steps(config: Path, phase: int, *steps: str, operator: str = "alice") -> None:
    """Operator actions through the real engine (journal intent, act, outcome)."""
    import asyncio

    from cockpit.engine import Engine

    async def go() -> None:
        engine = await Engine.open(load_plan(config), operator=operator)
        try:
            for step in steps:
                outcome = await engine.execute(phase, step)
                assert outcome.status == "done", f"{step}: {outcome.message}"
        finally:
            await engine.close()

    asyncio.run(go())


def alerts_of(config: Path, kind: str | None = None) -> list[Event]:
    return [e for e in events(config, "alert") if kind is None or e.data.get("kind") == kind]
