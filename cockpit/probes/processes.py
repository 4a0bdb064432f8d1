"""Runs of the plan's cron scripts that are executing right now (/proc, psutil for the few found).

"Stop background jobs" is not done when the crontab line is gone: a sync started a minute
earlier may still be writing. This probe finds those runs in one pass over the process
table per refresh (one raw read of each command line), cheap enough to run every few seconds.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from cockpit.cron.scan import script_pattern
from cockpit.probes.snapshot import ProcessRun

if TYPE_CHECKING:
    import psutil

PROC = "/proc"


def find_runs(scripts: Iterable[str]) -> dict[str, tuple[ProcessRun, ...]]:
    """Processes whose command line runs each script, keyed by script.

    A script matches as a whole argument path component (`php /app/cron/x.php`) or inside
    a shell command string (`sh -c "php /app/cron/x.php"`). When cron's `sh -c` wrapper and
    the script's interpreter both match, only the innermost process is kept: it is the run;
    the shell just waits for it.

    Every process's command line is read afresh on every call, never cached by pid: a pid
    keeps its number across exec (cron's child is `cron` until it execs `sh -c "php …"`),
    so a cache keyed on the pid would miss a job for as long as it runs. What is cheap is
    the reading: on Linux one raw read of /proc/PID/cmdline per process and a substring test
    in C on the bytes (~0.5 ms for 130 processes, where psutil's per-process objects took
    ~6.5 ms); user, start time and parent are read only for the few that match."""
    wanted = {script: script_pattern(script) for script in dict.fromkeys(scripts)}
    found: dict[str, list[tuple[int, ProcessRun]]] = {script: [] for script in wanted}
    if not wanted:
        return {}
    needles = [(script, os.fsencode(script)) for script in wanted]
    for pid, cmdline in _command_lines(needles):
        joined = " ".join(cmdline)
        matching = [script for script in wanted if script in joined and _runs(cmdline, wanted[script])]
        if not matching:
            continue
        import psutil  # only for the few that match: the scan itself never needs it

        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                if proc.status() == psutil.STATUS_ZOMBIE:
                    continue
                ppid, started = proc.ppid(), proc.create_time()
                try:
                    user = proc.username()
                except (psutil.AccessDenied, KeyError):
                    user = "?"
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for script in matching:
            run = ProcessRun(pid=pid, user=user, started_at=float(started or 0.0), cmdline=joined[:500])
            found[script].append((ppid or 0, run))
    return {script: _innermost(runs) for script, runs in found.items()}


def _command_lines(needles: list[tuple[str, bytes]]) -> Iterator[tuple[int, list[str]]]:
    """(pid, argv) of every other process whose command line holds one of the needles'
    bytes; kernel threads and zombies (empty command lines) are skipped."""
    me = os.getpid()
    try:
        names = os.listdir(PROC)
    except OSError:
        names = None
    if names is None:  # no procfs (not Linux): psutil's portable walk
        import psutil

        for proc in psutil.process_iter(["cmdline"]):
            cmdline = proc.info.get("cmdline")
            if cmdline and proc.pid != me and any(script in arg for arg in cmdline for script, _ in needles):
                yield proc.pid, list(cmdline)
        return
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        data = _read_cmdline(name)
        if data and any(needle in data for _, needle in needles):
            yield int(name), _split_cmdline(data)


def _read_cmdline(pid: str) -> bytes:
    """The raw /proc/PID/cmdline, b"" when the process is gone or hidden from us."""
    try:
        fd = os.open(f"{PROC}/{pid}/cmdline", os.O_RDONLY)
    except OSError:
        return b""
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:  # the process exited between the open and the read
        return b""
    finally:
        os.close(fd)
    return b"".join(chunks)


def _split_cmdline(data: bytes) -> list[str]:
    """argv as psutil splits it: NUL-separated, or space-separated when the process
    rewrote its title (setproctitle) into one string."""
    text = os.fsdecode(data)
    sep = "\x00" if text.endswith("\x00") else " "
    if text.endswith(sep):
        text = text[:-1]
    args = text.split(sep)
    if sep == "\x00" and len(args) == 1 and " " in text:
        args = text.split(" ")
    return args


def _runs(cmdline: list[str], pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(arg) for arg in cmdline)


def _innermost(runs: list[tuple[int, ProcessRun]]) -> tuple[ProcessRun, ...]:
    parents = {ppid for ppid, _ in runs}
    kept = [run for _, run in runs if run.pid not in parents]
    return tuple(sorted(kept, key=lambda r: (r.started_at, r.pid)))


def wait_for_exit(pids: Iterable[int], timeout: float, poll: float = 0.5) -> tuple[int, ...]:
    """Wait up to `timeout` seconds for the processes to end; returns the pids still
    running. Polls in `poll` steps so a caller in a worker thread stays responsive to its
    own deadline; processes that already vanished count as ended."""
    import psutil

    procs = []
    for pid in dict.fromkeys(pids):
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    deadline = time.monotonic() + max(0.0, timeout)
    alive = procs
    while alive:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        _, alive = psutil.wait_procs(alive, timeout=min(poll, remaining))
    return tuple(p.pid for p in alive if _still_running(p))


def _still_running(proc: psutil.Process) -> bool:
    import psutil

    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
