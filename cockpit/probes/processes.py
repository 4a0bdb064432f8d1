"""Runs of the plan's cron scripts that are executing right now (psutil).

"Stop background jobs" is not done when the crontab line is gone: a sync started a minute
earlier may still be writing. This probe finds those runs in one pass over the process
table per refresh, cheap enough to run every few seconds.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable

import psutil

from cockpit.cron.scan import script_pattern
from cockpit.probes.snapshot import ProcessRun


def find_runs(scripts: Iterable[str]) -> dict[str, tuple[ProcessRun, ...]]:
    """Processes whose command line runs each script, keyed by script.

    A script matches as a whole argument path component (`php /app/cron/x.php`) or inside
    a shell command string (`sh -c "php /app/cron/x.php"`). When cron's `sh -c` wrapper and
    the script's interpreter both match, only the innermost process is kept: it is the run;
    the shell just waits for it.

    Only the command line is read for every process (one /proc read each); user, start
    time and parent are read for the few that match. This runs every refresh of a day-long
    watch, and reading five attributes of every process made it the most expensive probe."""
    wanted = {script: script_pattern(script) for script in dict.fromkeys(scripts)}
    found: dict[str, list[tuple[int, ProcessRun]]] = {script: [] for script in wanted}
    if not wanted:
        return {}
    me = os.getpid()
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info.get("cmdline")
        if not cmdline or proc.pid == me:
            continue  # kernel threads, or a process we may not inspect
        joined = " ".join(cmdline)
        matching = [script for script in wanted if script in joined and _runs(cmdline, wanted[script])]
        if not matching:
            continue
        try:
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
            run = ProcessRun(pid=proc.pid, user=user, started_at=float(started or 0.0), cmdline=joined[:500])
            found[script].append((ppid or 0, run))
    return {script: _innermost(runs) for script, runs in found.items()}


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
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
