"""Host health for the watch: load, CPU, memory, disks, and the cockpit's own footprint.

The probe is long-lived because psutil measures CPU % between two calls: keeping the
previous sample lets every read be non-blocking (interval=None) instead of sleeping.
The cockpit's own CPU and RSS are shown so a 24-48h watch can prove it does not grow.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

import psutil

from cockpit.probes.snapshot import Freshness, HostReading


class HostProbe:
    def __init__(self) -> None:
        self._me = psutil.Process(os.getpid())
        # Prime both CPU counters; the first real read then covers the time since now.
        psutil.cpu_percent(interval=None)
        self._me.cpu_percent(interval=None)
        self.notes: tuple[str, ...] = ()

    def read(self, disks: Iterable[str] = ("/",), now: float | None = None) -> HostReading:
        """One reading, never blocking. Disk paths that do not exist (or cannot be
        statted) are skipped and named in `self.notes` rather than failing the reading."""
        now = time.time() if now is None else now
        notes: list[str] = []
        disk_rows: list[tuple[str, float, float]] = []
        for path in dict.fromkeys(disks):
            try:
                usage = psutil.disk_usage(path)
            except FileNotFoundError:
                notes.append(f"disk {path}: path does not exist")
                continue
            except OSError as exc:
                notes.append(f"disk {path}: {exc.strerror or exc}")
                continue
            disk_rows.append((path, float(usage.free), float(usage.percent)))
        try:
            load1, load5, _ = os.getloadavg()
        except OSError:
            load1 = load5 = 0.0
            notes.append("load average unavailable")
        with self._me.oneshot():
            own_cpu = self._me.cpu_percent(interval=None)
            own_rss = self._me.memory_info().rss
        self.notes = tuple(notes)
        return HostReading(
            load_1m=load1,
            load_5m=load5,
            cpu_percent=psutil.cpu_percent(interval=None),
            memory_percent=psutil.virtual_memory().percent,
            disks=tuple(disk_rows),
            own_cpu_percent=own_cpu,
            own_rss_bytes=int(own_rss),
            notes=self.notes,
            freshness=Freshness(fetched_at=now),
        )
