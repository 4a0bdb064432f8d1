"""Named fault points: where a test may crash or freeze the cockpit, by name, not by clock.

The crash suite must know which path a SIGKILL exercised. A kill at a wall-clock delay
lands wherever the machine happens to be (a fast machine finishes the step first, a
loaded one has not journalled the intent yet), so each place worth crashing at carries a
one-line `await fault_point("quarantine.after_rename")`, and a test arms one of them in
the child's environment:

    COCKPIT_FAULT=<name>:<action>[@<n>][,<name>:<action>[@<n>]...]

`@n` fires on the n-th time the point is reached in this process (default 1; earlier
passes go through), e.g. `drop.after_drop:kill@2` crashes after the second DROP.
Actions:
  - `kill`: SIGKILL this process (no cleanup, no `finally`, like a power cut);
  - `pause`: write the point's name to `$COCKPIT_FAULT_READY` (if set) and sleep for an
    hour, so the test can look at the world mid-action and then SIGKILL;
  - `hold`: write the ready file, then wait until the test deletes it and carry on: a
    test can act at that exact point (e.g. a colleague's crontab edit after the intent)
    without racing a timer;
  - `raise`: raise `FaultInjected` (for an in-process test of the error path).

Unset (production) it costs one dictionary lookup per point and touches nothing. The
variable is read on every call rather than at import, so an in-process test can set it
with monkeypatch; a malformed value is an error, never silently ignored.
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ENV = "COCKPIT_FAULT"
READY_ENV = "COCKPIT_FAULT_READY"
PAUSE_S = 3600.0

Action = Literal["kill", "pause", "hold", "raise"]
ACTIONS: tuple[Action, ...] = ("kill", "pause", "hold", "raise")
_ACTION_OF: dict[str, Action] = {a: a for a in ACTIONS}

# Every point the code carries, so a test can check that it arms a real one.
POINTS: frozenset[str] = frozenset({
    "step.after_intent",  # engine: the step's intent is journalled (fsync'd), nothing done yet
    "step.before_outcome",  # engine: the step's action returned, its outcome not yet journalled
    "emergency.after_intent",  # engine: the emergency intent journalled, no flag written yet
    "flags.after_update",  # a flag's write is committed, not yet read back
    "cron.after_edit",  # the crontab is rewritten, the edit not yet reported
    "quarantine.after_intent",  # the RENAME's text is journalled, not yet sent
    "quarantine.after_rename",  # the RENAME is done, counts and checksums not yet taken
    "drop.after_intent",  # one DROP's text is journalled, not yet sent
    "drop.after_drop",  # one DROP is done, not yet reported
    "backup.mid_dump",  # the dump tool started and the file is being followed (checked as it grows)
    "backup.before_replace",  # the dump is verified by restore, still under its .partial name
    "restore.after_rename",  # the restoring RENAME is done, the columns not yet back, nothing reported
})


class FaultInjected(RuntimeError):
    """Raised by a fault point armed with `raise`."""


@dataclass(frozen=True)
class Fault:
    name: str
    action: Action
    nth: int


def parse(value: str) -> dict[str, Fault]:
    """`name:action[@n],...` -> {name: Fault}; ValueError on anything malformed."""
    faults: dict[str, Fault] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, sep, rest = item.partition(":")
        word, _, nth = rest.partition("@")
        action = _ACTION_OF.get(word)
        if not sep or name not in POINTS or action is None or (nth and not nth.isdigit()) or nth == "0":
            raise ValueError(f"{ENV}: bad fault {item!r} (want <point>:<kill|pause|hold|raise>[@n], points: {', '.join(sorted(POINTS))})")
        faults[name] = Fault(name, action, int(nth or 1))
    return faults


_passes: dict[str, int] = {}


async def fault_point(name: str) -> None:
    """Crash, freeze or raise here if a test armed this point; otherwise return at once."""
    value = os.environ.get(ENV)
    if not value:
        return
    fault = parse(value).get(name)
    if fault is None:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] != fault.nth:
        return
    if fault.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault.action == "raise":
        raise FaultInjected(f"fault injected at {name}")
    ready = os.environ.get(READY_ENV)
    if ready:
        Path(ready).write_text(name, encoding="utf-8")
    if fault.action == "pause":
        await asyncio.sleep(PAUSE_S)
        return
    if not ready:
        raise ValueError(f"{ENV}: `hold` needs {READY_ENV}, the file the test deletes to release it")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PAUSE_S
    while Path(ready).exists() and loop.time() < deadline:
        await asyncio.sleep(0.005)
