"""The journal's reads are cached on a change signal: SQLite's `data_version` (moves when
ANOTHER connection commits) plus this connection's own append counter. An unchanged
journal costs one pragma and no table read; a row written by another process — a
different connection, as a CLI `cockpit note` or the watcher's alert is — is seen by the
very next read, and so is a row of our own."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from cockpit.journal import STATE_KINDS, Journal


def _other_process_appends(path: Path, target: str, kind: str, count: int = 1) -> None:
    """A second real process with its own connection (what a CLI call or the watcher is)."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from cockpit.journal import Journal
        j = Journal(Path({str(path)!r}), {target!r}, "bob")
        for n in range({count}):
            j.append({kind!r}, data={{"text": f"from another process {{n}}"}} if {kind!r} == "note" else {{}})
        j.close()
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def _statements(journal: Journal) -> list[str]:
    seen: list[str] = []
    journal._db.set_trace_callback(seen.append)
    return seen


def test_an_unchanged_journal_costs_one_pragma_per_read_and_no_table_read(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite", "t", "alice")
    for n in range(50):
        journal.append("note", data={"text": str(n)})
    journal.append("step_intent", phase=10, step="flags-off")
    journal.version(STATE_KINDS), journal.last_id, journal.events(kinds=["note"])  # warm
    seen = _statements(journal)
    for _ in range(10):  # ten ticks with nothing new
        assert journal.version(STATE_KINDS) == 51
        assert journal.last_id == 51
        assert len(journal.events(kinds=["note"])) == 50
    assert seen and all(s.strip().upper() == "PRAGMA DATA_VERSION" for s in seen), seen
    assert len(seen) == 30


def test_another_process_commit_is_seen_by_the_next_read(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path, "t", "alice")
    journal.append("step_intent", phase=10, step="flags-off")
    assert journal.version(STATE_KINDS) == 1 and journal.last_id == 1
    assert journal.version(["note"]) == 0
    assert len(journal.events()) == 1
    _other_process_appends(path, "t", "note", 3)  # bulk only: the state version must not move
    assert journal.last_id == 4
    assert journal.version(["note"]) == 4
    assert journal.version(STATE_KINDS) == 1
    assert [e.operator for e in journal.events()] == ["alice", "bob", "bob", "bob"]
    _other_process_appends(path, "t", "step_outcome")
    assert journal.version(STATE_KINDS) == 5
    assert journal.events(kinds=STATE_KINDS)[-1].operator == "bob"
    _other_process_appends(path, "another target", "note")  # another target's row: same file, not ours
    assert journal.last_id == 5 and len(journal.events()) == 5


def test_own_appends_and_a_second_connection_in_this_process_are_seen(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    ours, theirs = Journal(path, "t", "alice"), Journal(path, "t", "bob")
    assert ours.version(["alert"]) == 0 and theirs.last_id == 0
    ours.append("alert", data={"kind": "k"})  # our own commit does not move our data_version
    assert ours.version(["alert"]) == 1 and ours.last_id == 1
    theirs.append("alert_ack", data={"event_id": 1})
    assert ours.version(["alert", "alert_ack"]) == 2 and ours.last_id == 2
    assert theirs.version(["alert"]) == 1 and theirs.last_id == 2
