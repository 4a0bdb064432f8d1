"""The operator lock file: exclusive, names its holder, released by the OS when the holder dies."""

from __future__ import annotations

import subprocess
import sys
import time

from cockpit.engine.lock import OperatorLock

HOLDER = """
import sys, time
from cockpit.engine.lock import OperatorLock
lock = OperatorLock(sys.argv[1])
assert lock.acquire("alice") is None
print("held", flush=True)
time.sleep(60)
"""


def test_second_acquirer_learns_the_holder_and_kill9_releases(tmp_path):
    journal = tmp_path / "journal.sqlite3"
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(journal)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        mine = OperatorLock(journal)
        holder = mine.acquire("bob")
        assert holder is not None and holder.operator == "alice" and holder.pid == child.pid
        assert "alice@" in holder.describe()
    finally:
        child.kill()
        child.wait(timeout=10)
    deadline = time.monotonic() + 5
    while (holder := mine.acquire("bob")) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert holder is None and mine.held
    mine.release()
    assert not mine.held
