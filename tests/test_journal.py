"""The journal: durable, ordered, scoped to one target, and never a home for credentials."""

from __future__ import annotations

import sqlite3

import pytest

from cockpit.engine import state
from cockpit.journal import Journal, JournalError


def test_events_persist_in_order_and_survive_reopen(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal = Journal(path, "sandbox a", "alice", clock=lambda: 100.0)
    first = journal.append("note", phase=10, data={"text": "hello"})
    second = journal.append("tick", phase=10, data={"which": "before", "item": "backup"})
    journal.close()
    reopened = Journal(path, "sandbox a", "bob")
    events = reopened.events()
    assert [e.id for e in events] == [first, second]
    assert events[0].operator == "alice" and events[0].at == 100.0 and events[0].data == {"text": "hello"}
    assert reopened.events(kinds=["tick"])[0].data["item"] == "backup"


def test_wal_and_full_sync(tmp_path):
    path = tmp_path / "j.sqlite3"
    Journal(path, "t", "alice").append("note", data={"text": "x"})
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_targets_never_mix(tmp_path):
    path = tmp_path / "j.sqlite3"
    Journal(path, "mysql prod/db", "alice").append("note", data={"text": "prod"})
    Journal(path, "sandbox /tmp/x", "alice").append("note", data={"text": "drill"})
    assert [e.data["text"] for e in Journal(path, "sandbox /tmp/x", "a").events()] == ["drill"]


def test_refuses_credential_fields_and_unknown_kinds(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3", "t", "alice")
    with pytest.raises(JournalError):
        journal.append("note", data={"password": "hunter2"})
    with pytest.raises(ValueError):
        journal.append("bogus")
    assert journal.events() == []


def test_intent_without_outcome_is_interrupted(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3", "t", "alice")
    journal.append("step_intent", phase=10, step="flags-off")
    assert state.step_record(journal.events(), 10, "flags-off").status == "interrupted"
    intent = journal.append("step_intent", phase=10, step="flags-off")
    journal.append("step_outcome", phase=10, step="flags-off", data={"status": "done", "intent_id": intent})
    assert state.step_record(journal.events(), 10, "flags-off").status == "done"
    # a later refusal changes nothing live: the step stays done
    journal.append("step_outcome", phase=10, step="flags-off", data={"status": "refused"})
    assert state.step_record(journal.events(), 10, "flags-off").status == "done"


def test_unopenable_journal_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(JournalError, match="cannot open the journal"):
        Journal(blocker / "j.sqlite3", "t", "alice")
