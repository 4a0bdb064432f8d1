"""HostProbe against the real machine."""

from __future__ import annotations

import time

from cockpit.probes.host import HostProbe


def test_reads_without_blocking_and_skips_missing_disks(tmp_path, monkeypatch):
    probe = HostProbe()
    # "never blocks" checked directly, not by a wall-clock bound a loaded machine can
    # break: psutil's cpu_percent(interval=x > 0) sleeps through time.sleep; none may run
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    reading = probe.read(["/", str(tmp_path), "/definitely/not/here"], now=123.0)
    monkeypatch.undo()
    assert slept == [], "the host read slept (cpu_percent with an interval?)"
    assert [d[0] for d in reading.disks] == ["/", str(tmp_path)]
    for _, free, used in reading.disks:
        assert free > 0 and 0 <= used <= 100
    assert probe.notes == ("disk /definitely/not/here: path does not exist",)
    assert 0 <= reading.cpu_percent <= 100 and 0 < reading.memory_percent <= 100
    assert reading.load_1m >= 0 and reading.load_5m >= 0
    assert reading.own_rss_bytes > 10_000_000  # a Python process with psutil loaded
    assert reading.freshness.fetched_at == 123.0


def test_own_cpu_is_measured_between_reads():
    probe = HostProbe()
    probe.read(["/"])
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass  # burn CPU in this process
    assert probe.read(["/"]).own_cpu_percent > 10
