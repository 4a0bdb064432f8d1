"""Derived state computed once per journal change, not once per redraw.

The board asks the engine for every phase's progress, steps, ticks, alerts and watch
several times a second-long tick, for a watch that can last days. Each answer is a pure
function of (the journal events it reads, its arguments, a little engine state), so it
is cached keyed on the newest event id among the kinds it reads (`Journal.version`). That
id is itself cached on the journal's change signal — SQLite's `data_version`, which moves
when another connection commits, plus this connection's own append counter — so a tick
with no new commit anywhere costs one `PRAGMA data_version` per method (no table read),
whatever the history's length, and a row another process wrote is seen by the next call.

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
from typing import Any, Protocol, TypeVar, cast

from cockpit.journal import STATE_KINDS, Journal

from .types import PhaseProgress

F = TypeVar("F", bound=Callable[..., Any])


class Derives(Protocol):
    """What a memoized derivation needs of its owner (the Engine)."""

    @property
    def journal(self) -> Journal: ...

    @property
    def clock(self) -> Callable[[], float]: ...

    def memo_state(self) -> tuple[object, ...]:
        """What besides the journal a derivation may read (compared by equality)."""
        ...

_PLAIN = (int, float, str, bool, type(None))


@dataclasses.dataclass
class _Entry:
    objects: tuple[object, ...]  # non-plain arguments (e.g. the snapshot), compared by identity
    version: int
    engine_state: tuple[object, ...]
    result: object


class DerivedMemo:
    """The last result per (method, plain arguments); one entry each, so it stays small."""

    def __init__(self) -> None:
        self.entries: dict[tuple[object, ...], _Entry] = {}
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        self.entries.clear()


def memo_of(engine: object) -> DerivedMemo:
    """The engine's memo, kept in its instance dict (created on first use)."""
    found = engine.__dict__.get("_derived_memo")
    if isinstance(found, DerivedMemo):
        return found
    memo = engine.__dict__["_derived_memo"] = DerivedMemo()
    return memo


def _copy(result: object) -> object:
    """Callers get their own list/dict, so mutating an answer cannot corrupt the cache."""
    if isinstance(result, list):
        return list(result)
    if isinstance(result, dict):
        return dict(result)
    return result


def _reclock(result: object, now: float) -> object:
    """A phase's elapsed time moves with the clock while it is in progress."""
    if not isinstance(result, PhaseProgress) or result.started_at is None:
        return result
    if result.status == "in progress" or result.finished_at is None:
        return dataclasses.replace(result, elapsed_s=now - result.started_at)
    return result


def derived(kinds: frozenset[str] = STATE_KINDS, *, clocked: bool = False) -> Callable[[F], F]:
    """Memoize an engine method whose answer depends on the journal's `kinds` only.

    `clocked`: the answer holds an elapsed time (PhaseProgress), recomputed from the
    engine's clock on every call without re-deriving anything."""

    def wrap(method: F) -> F:
        name = method.__name__

        @functools.wraps(method)
        def inner(self: Derives, *args: object, **kwargs: object) -> object:
            journal = self.journal
            memo = memo_of(self)
            plain = tuple(a for a in args if isinstance(a, _PLAIN))
            objects = tuple(a for a in args if not isinstance(a, _PLAIN))
            named = tuple(sorted((k, v) for k, v in kwargs.items() if isinstance(v, _PLAIN)))
            objects += tuple(v for _, v in sorted(kwargs.items()) if not isinstance(v, _PLAIN))
            key = (name, plain, named)
            with journal.scoped(kinds):
                version = journal.version(kinds)
                state = self.memo_state()
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

        return cast(F, inner)  # functools.wraps keeps the signature; F is the method's own type

    return wrap
