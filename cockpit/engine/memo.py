"""Derived state computed once per journal change, not once per redraw.

The board asks the engine for every phase's progress, steps, ticks, alerts and watch
several times a second-long tick, for a watch that can last days. Each answer is a pure
function of (the journal events it reads, its arguments, a little engine state), so it
is cached keyed on the newest event id among the kinds it reads: a tick with no new
event costs one indexed SQLite read per method, whatever the history's length.

Each derivation also runs inside `Journal.scoped(kinds)`, so the `events()` it calls
reads only the kinds it needs (`STATE_KINDS` for step statuses and progress — a few
events per step — never the heartbeats, output lines, notes and alerts a long watch
piles up). Recomputing after a new state event therefore scans that small selection,
and a phase's tick/alert queries scan only that phase's events (per-phase index).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from cockpit.journal import STATE_KINDS

F = TypeVar("F", bound=Callable[..., Any])

_PLAIN = (int, float, str, bool, type(None))


@dataclasses.dataclass
class _Entry:
    objects: tuple[Any, ...]  # non-plain arguments (e.g. the snapshot), compared by identity
    version: int
    engine_state: tuple[Any, ...]
    result: Any


class DerivedMemo:
    """The last result per (method, plain arguments); one entry each, so it stays small."""

    def __init__(self) -> None:
        self.entries: dict[tuple[Any, ...], _Entry] = {}
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        self.entries.clear()


def memo_of(engine: Any) -> DerivedMemo:
    memo = engine.__dict__.get("_derived_memo")
    if memo is None:
        memo = engine.__dict__["_derived_memo"] = DerivedMemo()
    return memo


def _engine_state(engine: Any) -> tuple[Any, ...]:
    """What besides the journal a derivation may read: the step running now, whether the
    database is reachable (a step needing it shows blocked), read-only mode."""
    return (getattr(engine, "_running", None), getattr(engine, "db", None) is None,
            getattr(engine, "db_error", ""), getattr(engine, "read_only", False))


def _copy(result: Any) -> Any:
    """Callers get their own list/dict, so mutating an answer cannot corrupt the cache."""
    if isinstance(result, list):
        return list(result)
    if isinstance(result, dict):
        return dict(result)
    return result


def _reclock(result: Any, now: float) -> Any:
    """A phase's elapsed time moves with the clock while it is in progress."""
    started = getattr(result, "started_at", None)
    if started is None or not dataclasses.is_dataclass(result) or not hasattr(result, "elapsed_s"):
        return result
    finished = getattr(result, "finished_at", None)
    if getattr(result, "status", "") == "in progress" or finished is None:
        return dataclasses.replace(result, elapsed_s=now - started)
    return result


def derived(kinds: frozenset[str] = STATE_KINDS, *, clocked: bool = False) -> Callable[[F], F]:
    """Memoize an engine method whose answer depends on the journal's `kinds` only.

    `clocked`: the answer holds an elapsed time (PhaseProgress), recomputed from the
    engine's clock on every call without re-deriving anything."""

    def wrap(method: F) -> F:
        name = method.__name__

        @functools.wraps(method)
        def inner(self: Any, *args: Any, **kwargs: Any) -> Any:
            journal = self.journal
            memo = memo_of(self)
            plain = tuple(a for a in args if isinstance(a, _PLAIN))
            objects = tuple(a for a in args if not isinstance(a, _PLAIN))
            named = tuple(sorted((k, v) for k, v in kwargs.items() if isinstance(v, _PLAIN)))
            objects += tuple(v for _, v in sorted(kwargs.items()) if not isinstance(v, _PLAIN))
            key = (name, plain, named)
            with journal.scoped(kinds):
                version = journal.version(kinds)
                state = _engine_state(self)
                entry = memo.entries.get(key)
                if (entry is not None and entry.version == version and entry.engine_state == state
                        and len(entry.objects) == len(objects)
                        and all(a is b for a, b in zip(entry.objects, objects, strict=True))):
                    memo.hits += 1
                    result = entry.result
                else:
                    memo.misses += 1
                    result = method(self, *args, **kwargs)
                    memo.entries[key] = _Entry(objects, version, state, result)
            if clocked:
                result = _reclock(result, self.clock())
            return _copy(result)

        return inner  # type: ignore[return-value]

    return wrap
