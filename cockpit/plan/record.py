"""`Record`: the equality, hash and repr of frozen dataclasses, written once instead of per class.

Python 3.11 builds every dataclass method by compiling generated source: a frozen
dataclass costs six compiles (`__init__`, `__repr__`, `__eq__`, `__hash__`,
`__setattr__`, `__delattr__`), about 1-2 ms per class on the development machine. The
plan model and the probes' snapshot types are ~40 classes that every start of the TUI
creates before it can draw anything with data. A class declared

    @dataclass(frozen=True, eq=False, repr=False)
    class Thing(Record): ...

has dataclass compile only `__init__` and the two frozen guards, and inherits these
three, which behave as the generated ones do: equal only to an instance of the very same
class with equal compared fields (`field(compare=False)` is left out), hashed on the
fields a frozen dataclass hashes (`hash=` when given, else `compare`), shown as
`Thing(a=1, b='x')` with the `repr=True` fields. tests/test_record.py compares them with
what `dataclass(frozen=True)` generates.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any


class Record:
    """Base of frozen dataclasses declared with `eq=False, repr=False` (see the module docstring)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = _layout(self.__class__)[0]  # as tuples, like the generated method: `x is y` counts as equal (NaN)
        return tuple(getattr(self, name) for name in names) == tuple(getattr(other, name) for name in names)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in _layout(self.__class__)[1]))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _layout(self.__class__)[2])
        return f"{self.__class__.__qualname__}({shown})"


# class -> (compared, hashed, shown) field names, worked out once per class
_LAYOUTS: dict[type[Any], tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}


def _layout(cls: type[Any]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    found = _LAYOUTS.get(cls)
    if found is None:
        own = fields(cls)
        found = _LAYOUTS[cls] = (
            tuple(f.name for f in own if f.compare),
            tuple(f.name for f in own if (f.compare if f.hash is None else f.hash)),
            tuple(f.name for f in own if f.repr),
        )
    return found
