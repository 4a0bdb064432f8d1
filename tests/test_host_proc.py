"""HostProbe reads /proc itself (psutil is not imported for four numbers): its figures
must agree with psutil's on the same machine."""

from __future__ import annotations

import os
import sys
import time

import psutil
import pytest

from cockpit.probes.host import HostProbe, disk_usage

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_disk_figures_are_psutils(tmp_path):
    for path in ("/", str(tmp_path)):
        free, percent = disk_usage(path)
        theirs = psutil.disk_usage(path)
        assert percent == pytest.approx(theirs.percent, abs=0.2)  # a write between the two reads
        assert free == pytest.approx(theirs.free, rel=0.01)


def test_memory_rss_and_cpu_agree_with_psutil():
    probe = HostProbe()
    psutil.cpu_percent(interval=None)
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    reading = probe.read(["/"])
    assert reading.memory_percent == pytest.approx(psutil.virtual_memory().percent, abs=2.0)
    assert reading.own_rss_bytes == pytest.approx(psutil.Process(os.getpid()).memory_info().rss, rel=0.05)
    assert 10 < reading.own_cpu_percent <= 100 * (os.cpu_count() or 1)
    assert 0 < reading.cpu_percent <= 100  # this process was busy: the host was too
    assert reading.cpu_percent == pytest.approx(psutil.cpu_percent(interval=None), abs=25)
