"""Two cockpits on one target: exactly one can act, the other watches read-only.

In one process (two Engine.open), across processes (a CLI run holding the lock while a
second operator tries), and across "bastions" on MariaDB (separate journals and lock
files, one database: the server-side GET_LOCK decides). The holder is named; the second
cockpit's actions are refused with exit 1; and when the holder dies — even by SIGKILL —
the lock is free with nothing to clean up by hand.
"""

from __future__ import annotations

import asyncio
import signal
import tomllib
from pathlib import Path

import pytest
import tomli_w

from cockpit.faults import ENV as FAULT_ENV
from cockpit.journal import Journal
from cockpit.plan import load_plan

from . import cli


def _intent_logged(plan) -> bool:
    if not Path(plan.paths.journal).exists():
        return False
    journal = Journal(plan.paths.journal, plan.target.label, "inspector")
    try:
        return bool(journal.events(kinds=["step_intent"]))
    finally:
        journal.close()


async def test_second_engine_is_read_only_and_names_the_holder(target_config: Path, open_engine) -> None:
    first = await open_engine(target_config, operator="alice")
    second = await open_engine(target_config, operator="bob")
    assert not first.read_only
    assert second.read_only and "alice" in second.read_only_reason, second.read_only_reason
    refused = await second.execute(10, "flags-off")
    assert refused.status == "refused" and refused.guard == "read_only" and "alice" in refused.message
    done = await first.execute(10, "flags-off")
    assert done.status == "done"
    # the read-only cockpit sees the same journal-derived picture
    assert next(v for v in second.step_views(10) if v.step.id == "flags-off").status == "done"

    await first.close()
    third = await open_engine(target_config, operator="carol")
    assert not third.read_only, third.read_only_reason


async def test_cli_holder_refuses_others_until_it_dies_by_sigkill(target_config: Path) -> None:
    config = str(target_config)
    plan = load_plan(target_config)
    holder = cli.start("run", "10", "flags-off", "--execute", "--config", config,
                       env={FAULT_ENV: "step.after_intent:pause", "COCKPIT_OPERATOR": "alice"})
    try:
        await asyncio.to_thread(cli.wait_until, lambda: _intent_logged(plan), 30, 0.02, "alice's intent")
        other = await asyncio.to_thread(cli.run, "run", "10", "cron-stop", "--execute", "--config", config,
                                        env={"COCKPIT_OPERATOR": "bob"})
        assert other.code == 1, other
        assert len(other.stderr_lines) == 1 and "Traceback" not in other.stderr, other
        assert "read-only" in other.stderr and "alice" in other.stderr, other
        # watching is still allowed while alice acts
        watching = await asyncio.to_thread(cli.run, "steps", "10", "--json", "--config", config, env={"COCKPIT_OPERATOR": "bob"})
        assert watching.code == 0, watching
        assert next(s for s in watching.json()["steps"] if s["id"] == "flags-off")["status"] == "interrupted"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=10)
    assert holder.returncode == -signal.SIGKILL

    after = await asyncio.to_thread(cli.run, "run", "10", "cron-stop", "--execute", "--config", config,
                                    env={"COCKPIT_OPERATOR": "bob"})
    assert after.code == 0, after
    journal = Journal(plan.paths.journal, plan.target.label, "inspector")
    try:
        actors = {e.operator for e in journal.events(kinds=["step_intent"])}
    finally:
        journal.close()
    assert actors == {"alice", "bob"}


@pytest.mark.mariadb
async def test_two_bastions_share_one_database_lock(mysql_sandbox, open_engine) -> None:
    """Separate journals (so separate lock files), one database: the server lock decides."""
    data = tomllib.loads(mysql_sandbox.config_path.read_text(encoding="utf-8"))
    data["paths"]["journal"] = "bastion-b-journal.sqlite3"
    other = mysql_sandbox.config_path.with_name("bastion-b.toml")
    other.write_text(tomli_w.dumps(data, multiline_strings=True), encoding="utf-8")

    a = await open_engine(mysql_sandbox.config_path, operator="alice")
    b = await open_engine(other, operator="bob")
    assert not a.read_only
    assert b.read_only and "on the database" in b.read_only_reason, b.read_only_reason
    assert (await b.execute(10, "flags-off")).status == "refused"

    # bastion A's process dies: the server drops its session and the lock with it
    holder = cli.start("run", "10", "flags-off", "--execute", "--config", str(other),
                       env={FAULT_ENV: "step.after_intent:pause", "COCKPIT_OPERATOR": "dave"})
    try:
        await a.close()
        plan_b = load_plan(other)
        await asyncio.to_thread(cli.wait_until, lambda: _intent_logged(plan_b), 30, 0.02, "dave's intent")
        c = await open_engine(mysql_sandbox.config_path, operator="carol")
        assert c.read_only and "on the database" in c.read_only_reason, "dave holds the server lock"
        await c.close()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=10)

    async def free() -> bool:
        engine = await open_engine(mysql_sandbox.config_path, operator="erin")
        ok = not engine.read_only
        await engine.close()
        return ok

    # the server notices the dead client's closed socket at once; allow a moment
    for _ in range(20):
        if await free():
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the server lock outlived the SIGKILLed cockpit")
