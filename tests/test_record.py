"""`Record` (cockpit/plan/record.py) stands in for the `__eq__`, `__hash__` and `__repr__`
that `dataclass(frozen=True)` would generate for the plan model, the probes' snapshot
types and the engine's view types. Each instance here is checked against a twin class
that the real dataclass machinery builds from the same fields: same repr, same hash, same
equality (with itself, a copy, a changed copy, another class), compare=False honoured."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from cockpit.engine import types as engine_types
from cockpit.plan import default_plan_path, load_plan, model
from cockpit.plan.record import Record
from cockpit.probes import snapshot as snap


def _twin(cls: type[Any]) -> type[Any]:
    """What `@dataclass(frozen=True)` generates for `cls`'s fields (all keyword-only, so
    default order does not matter; the qualname is the same, so reprs compare)."""
    fields = dataclasses.fields(cls)
    namespace: dict[str, Any] = {"__annotations__": {f.name: f.type for f in fields}, "__qualname__": cls.__qualname__}
    for f in fields:
        namespace[f.name] = dataclasses.field(compare=f.compare, hash=f.hash, repr=f.repr, kw_only=True)
    return dataclasses.dataclass(frozen=True)(type(cls.__name__, (), namespace))


_TWINS: dict[type[Any], type[Any]] = {}


def _as_twin(value: Any) -> Any:
    cls = value.__class__
    twin = _TWINS.setdefault(cls, _twin(cls))
    return twin(**{f.name: getattr(value, f.name) for f in dataclasses.fields(cls)})


def _records_in(value: Any, found: dict[type[Any], list[Any]]) -> None:
    if isinstance(value, Record):
        found.setdefault(value.__class__, []).append(value)
        for f in dataclasses.fields(value):  # type: ignore[arg-type]  # a Record is a dataclass instance
            _records_in(getattr(value, f.name), found)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _records_in(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _records_in(item, found)


def _instances() -> dict[type[Any], list[Any]]:
    plan = load_plan(default_plan_path())
    fresh = snap.Freshness(fetched_at=1.0, stale_since=None, error=None)
    phase = snap.PhaseSnapshot(
        id=10, name="ten", state="live",
        flags=(snap.FlagReading(key="f", state="on", raw="1", freshness=fresh),),
        cron=(snap.CronReading(id="c", script="x.php", state="enabled", running=(snap.ProcessRun(1, "www", 2.0, "php x.php"),)),),
        tables=(snap.TableReading(name="t", exists=True, has_rows=False, columns=("a", "b")),),
        columns=(("t", "a", True),),
        activity=(snap.ActivityReading(id="a", text="recent", recent_rows=0, window_minutes=5, method=""),),
        logs=(snap.LogReading(path="/var/log/x", pattern="ERR", exists=True, rate_per_minute=(1, 2)),),
    )
    reading = snap.Snapshot(
        taken_at=3.0, target="sandbox", connection=snap.ConnectionReading(target="sandbox", state="connected", notices=("n",)),
        phases=(phase,), host=snap.HostReading(1.0, 0.5, 2.0, 3.0, (("/", 1.0, 2.0),), 0.1, 10, notes=("x",)),
    )
    step = plan.phases[0].steps[0]
    guard = engine_types.GuardResult("order", True, "fine")
    views = [
        guard,
        engine_types.StepView(step=step, status="done", blocked_by=("x",)),
        engine_types.DryRun(phase_id=10, step_id=step.id, title="t", text="x", guards=(guard,), destructive=False,
                            confirm_token=None, would_refuse=False),
        engine_types.Outcome(status="done", message="ok", output=("line",), data={"rows": 3}),
        engine_types.PhaseProgress(10, 1.0, None, 2.0, 30.0, "in progress"),
        engine_types.TickState(True, "ana", 1.0, note=None),
        engine_types.AlertRecord(1, 2.0, "drift", None, "s", "m"),
        engine_types.WatchState(1.0, 2.0, None, 24.0),
        engine_types.EmergencyWarning("EMERGENCY ROLLBACK INTERRUPTED", running=False),
        engine_types.EmergencyWarning("EMERGENCY ROLLBACK RUNNING", running=True),
    ]
    found: dict[type[Any], list[Any]] = {}
    smoke = model.SmokeCheck(id="home", url="http://127.0.0.1/", contains="ok", phase=10)  # the shipped plan has none
    _records_in((plan, reading, views, smoke), found)
    return found


INSTANCES = _instances()


def test_every_record_class_of_the_three_modules_is_covered() -> None:
    declared = {cls for module in (model, snap, engine_types) for cls in vars(module).values()
                if isinstance(cls, type) and issubclass(cls, Record) and cls is not Record and cls.__module__ == module.__name__}
    abstract = {model.StepSpec, model.TableStepSpec, model.DestroyingSpec}  # bases: only their subclasses are built
    assert declared - abstract - set(INSTANCES) == set()


@pytest.mark.parametrize("cls", sorted(INSTANCES, key=lambda c: c.__qualname__), ids=lambda c: c.__qualname__)
def test_record_behaves_like_the_generated_dataclass(cls: type[Any]) -> None:
    for value in INSTANCES[cls][:5]:
        twin = _as_twin(value)
        assert repr(value) == repr(twin)
        assert hash(value) == hash(twin)
        copy = dataclasses.replace(value)
        assert value == copy and hash(value) == hash(copy) and not (value != copy)
        assert value != twin and twin != value  # another class: never equal, as generated
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            changed = _changed(getattr(value, f.name))
            if changed is _SAME:
                continue
            other = dataclasses.replace(value, **{f.name: changed})
            assert (value == other) == (twin == _as_twin(other)), f.name
            if not f.compare:
                assert value == other, f"{f.name} is compare=False"


_SAME = object()


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, tuple):
        return (*value, value[0]) if value else _SAME
    if isinstance(value, dict):
        return {**value, "other": 1}
    return _SAME


def test_nan_equals_itself_as_in_a_generated_dataclass() -> None:
    nan = math.nan
    one = snap.Freshness(fetched_at=nan)
    assert one == dataclasses.replace(one)  # the same float object: tuple comparison says equal
    assert _as_twin(one) == _as_twin(dataclasses.replace(one))
