"""Host health for the watch: load, CPU, memory, disks, and the cockpit's own footprint.

The probe is long-lived because CPU % is measured between two reads: keeping the
previous sample lets every read be non-blocking instead of sleeping. The cockpit's own
CPU and RSS are shown so a 24-48h watch can prove it does not grow.

On Linux every figure comes straight from the kernel (/proc/stat, /proc/meminfo,
/proc/self/statm, statvfs, os.times), computed as psutil computes it: importing psutil
cost the first live frame 20-50 ms on the development machine, for four numbers.
Without /proc (another Unix) psutil is imported and used instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from cockpit.probes.snapshot import Freshness, HostReading

PROC = "/proc"


class HostProbe:
    def __init__(self) -> None:
        self._proc = os.path.exists(f"{PROC}/stat") and os.path.exists(f"{PROC}/self/statm")
        self._psutil_me: object | None = None
        if not self._proc:
            import psutil

            self._psutil_me = psutil.Process(os.getpid())
        # Prime both CPU counters; the first real read then covers the time since now.
        self._cpu_before = self._host_cpu_times()
        self._own_before = self._own_cpu_times()
        self.notes: tuple[str, ...] = ()

    def read(self, disks: Iterable[str] = ("/",), now: float | None = None) -> HostReading:
        """One reading, never blocking. Disk paths that do not exist (or cannot be
        statted) are skipped and named in `self.notes` rather than failing the reading."""
        now = time.time() if now is None else now
        notes: list[str] = []
        disk_rows: list[tuple[str, float, float]] = []
        for path in dict.fromkeys(disks):
            try:
                free, percent = disk_usage(path)
            except FileNotFoundError:
                notes.append(f"disk {path}: path does not exist")
                continue
            except OSError as exc:
                notes.append(f"disk {path}: {exc.strerror or exc}")
                continue
            disk_rows.append((path, free, percent))
        try:
            load1, load5, _ = os.getloadavg()
        except OSError:
            load1 = load5 = 0.0
            notes.append("load average unavailable")
        self.notes = tuple(notes)
        return HostReading(
            load_1m=load1,
            load_5m=load5,
            cpu_percent=self._cpu_percent(),
            memory_percent=self._memory_percent(),
            disks=tuple(disk_rows),
            own_cpu_percent=self._own_cpu_percent(),
            own_rss_bytes=self._own_rss(),
            notes=self.notes,
            freshness=Freshness(fetched_at=now),
        )

    # -- the whole host's CPU: busy share of all CPUs' time since the last read ----------
    def _host_cpu_times(self) -> tuple[float, float]:
        """(busy, total) jiffies as psutil counts them: guest time is already inside
        user/nice, idle and iowait are not busy."""
        if not self._proc:
            import psutil

            t = psutil.cpu_times()
            total = sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
            return total - t.idle - getattr(t, "iowait", 0.0), total
        with open(f"{PROC}/stat", "rb") as handle:
            fields = [float(v) for v in handle.readline().split()[1:]]
        fields += [0.0] * (10 - len(fields))
        user, nice, system, idle, iowait, irq, softirq, steal, _guest, _guest_nice = fields[:10]
        total = user + nice + system + idle + iowait + irq + softirq + steal
        return total - idle - iowait, total

    def _cpu_percent(self) -> float:
        busy0, total0 = self._cpu_before
        self._cpu_before = busy1, total1 = self._host_cpu_times()
        elapsed = total1 - total0
        if elapsed <= 0:
            return 0.0
        return round(min(100.0, max(0.0, (busy1 - busy0) / elapsed * 100)), 1)

    # -- the cockpit's own CPU (share of one core, threads included) and memory ----------
    @staticmethod
    def _own_cpu_times() -> tuple[float, float]:
        times = os.times()
        return times.user + times.system, time.monotonic()

    def _own_cpu_percent(self) -> float:
        cpu0, wall0 = self._own_before
        self._own_before = cpu1, wall1 = self._own_cpu_times()
        elapsed = wall1 - wall0
        return round((cpu1 - cpu0) / elapsed * 100, 1) if elapsed > 0 else 0.0

    def _own_rss(self) -> int:
        if self._psutil_me is not None:
            return int(self._psutil_me.memory_info().rss)  # type: ignore[attr-defined]  # psutil.Process, no stubs
        with open(f"{PROC}/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _memory_percent(self) -> float:
        """Used share of memory as psutil's virtual_memory().percent: (total - available) / total."""
        if not self._proc:
            import psutil

            return float(psutil.virtual_memory().percent)
        info: dict[bytes, int] = {}
        with open(f"{PROC}/meminfo", "rb") as handle:
            for line in handle:
                key, _, rest = line.partition(b":")
                if key in (b"MemTotal", b"MemAvailable", b"MemFree", b"Buffers", b"Cached"):
                    info[key] = int(rest.split()[0]) * 1024
        total = info.get(b"MemTotal", 0)
        if total <= 0:
            return 0.0
        available = info.get(b"MemAvailable")
        if available is None:  # kernels before 3.14
            available = info.get(b"MemFree", 0) + info.get(b"Buffers", 0) + info.get(b"Cached", 0)
        return round((total - available) / total * 100, 1)


def disk_usage(path: str) -> tuple[float, float]:
    """(bytes free to an unprivileged user, percent used) as psutil.disk_usage gives them:
    the percent is of the space a user can have, so it reaches 100 when non-root writes fail."""
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    usable = used + free
    percent = round(used / usable * 100, 1) if usable > 0 else 0.0
    return float(free), percent
