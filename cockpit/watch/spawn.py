"""Starting a watcher that outlives the terminal: `cockpit watch --detach` and the TUI.

The detached watcher is the same program in its own session (`start_new_session`, so a
hangup of the SSH session or the TUI's process group never reaches it), stdin closed,
output appended to a log file in the state directory. The launcher waits until the
child holds the target's pidfile and has journalled its first heartbeat, or until it
exits (e.g. refused because another watcher runs), and reports which.

The child inherits the environment: it needs the same database credentials as the
operator (option file or MYSQL_PWD) to read the live system; nothing else is passed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cockpit.paths import state_dir

from .pidfile import running_holder


@dataclass(frozen=True)
class Spawned:
    ok: bool
    pid: int
    log: Path
    detail: str


def log_path(target: str) -> Path:
    digest = hashlib.sha256(target.encode("utf-8")).hexdigest()[:10]
    return state_dir() / f"watch-{digest}.log"


def spawn_detached(config: Path, args: list[str], pidfile: Path, log: Path, wait: float = 20.0) -> Spawned:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        os.chmod(log, 0o600)
        out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} cockpit watch --detach\n".encode())
        out.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", "cockpit", "watch", "--config", str(config), *args],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            return Spawned(False, proc.pid, log, f"the watcher exited with {code}: {_last_line(log)}")
        holder = running_holder(pidfile)
        if holder is not None and holder.pid == proc.pid and _ready(log):
            return Spawned(True, proc.pid, log, "")
        time.sleep(0.05)
    return Spawned(True, proc.pid, log, f"started but not ready after {wait:g} s; see {log}")


def _ready(log: Path) -> bool:
    """The watcher prints `watch: started`/`watch: resuming` once its watch is journalled."""
    try:
        tail = log.read_bytes()[-4096:].decode("utf-8", "replace")
    except OSError:
        return False
    marker = tail.rsplit("--- ", 1)[-1]
    return "watch: started" in marker or "watch: resuming" in marker


def _last_line(log: Path) -> str:
    try:
        lines = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "(no log)"
    return lines[-1] if lines else "(no output)"
