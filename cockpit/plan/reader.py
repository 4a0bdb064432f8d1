"""Typed reads of one TOML table, each failing with the line of the key it read.

tomllib hands back plain dicts; every value in them is operator-edited text. A `TableReader`
is the only way the loader looks at one: each read names the key and what it must be
(`text`, `line`, `integer`, `identifiers`, ...), records the key so `done()` can refuse
the ones nobody asked for, and fails through the loader, which maps the key path to
`phases.toml:42`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from typing import NoReturn, TypeVar

from .locate import PathKey
from .names import CONTROL, IDENTIFIER, LINE_BREAK, MAX_IDENTIFIER, MAX_SLUG, is_identifier, is_slug, shown
from .secrets import credential_in_argv

IDENTIFIER_RULE = f"({IDENTIFIER.pattern}) of at most {MAX_IDENTIFIER} characters"
SLUG_RULE = f"must be lower-case letters, digits, - or _ (at most {MAX_SLUG} characters)"
CREDENTIAL_HINT = "credentials never go in the plan; give the tool an option file or a protected environment"
MAX_ITEMS = 1000  # entries in any one list (flags, tables, steps, ...)

# What a TOML value can be once tomllib has read it (dates never appear in a plan's keys
# the loader asks for; a date where a string is wanted is reported as a wrong type).
TomlValue = object
Fail = Callable[[PathKey, str], NoReturn]
Choice = TypeVar("Choice", bound=str)


def short(value: TomlValue) -> str:
    """A value quoted into an error: bounded, escapes visible (a huge int cannot even be
    turned into decimal text)."""
    if isinstance(value, str):
        return f"'{shown(value, 60)}'"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"a {type(value).__name__} too large to show"
    return shown(text, 60)


def closest(word: str, candidates: set[str]) -> str | None:
    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.75)
    return found[0] if found else None


class TableReader:
    """Typed access to one TOML table that reports errors with their line. Every read
    records its key, so `done()` can refuse the keys nobody asked for."""

    def __init__(self, fail: Fail, data: TomlValue, path: PathKey, label: str) -> None:
        self._fail = fail
        self.path = path
        self.label = label
        if not isinstance(data, dict):
            fail(path, f"{label}: expected a table, got {type(data).__name__}")
        self.data: dict[str, TomlValue] = data
        self._allowed: set[str] = set()

    def fail(self, key: str | None, message: str, *more: object) -> NoReturn:
        """Fail at `key` (or this table's header) with the table's label in front."""
        where = self.path if key is None else (*self.path, key, *more)
        self._fail(where, f"{self.label}: {message}")

    def _get(self, key: str, required: bool, default: TomlValue) -> TomlValue:
        self._allowed.add(key)
        if key not in self.data:
            if required:
                typo = closest(key, set(self.data))
                hint = f" (found \"{shown(typo)}\": a typo?)" if typo else ""
                self.fail(typo, f"missing key \"{key}\"{hint}")
            return default
        return self.data[key]

    def _type_error(self, key: str, wanted: str, value: TomlValue) -> NoReturn:
        self.fail(key, f"key \"{key}\" must be {wanted}, got {type(value).__name__} {short(value)}")

    def _plain(self, key: str, value: str, single_line: bool, *index: int) -> str:
        bad = CONTROL.search(value) or (LINE_BREAK.search(value) if single_line else None)
        if bad:
            what = "a line break" if LINE_BREAK.match(bad.group(0)) else f"the control character U+{ord(bad.group(0)):04X}"
            item = f" item {index[0] + 1}" if index else ""
            self.fail(key, f"key \"{key}\"{item} holds {what}; plan text must be plain", *index)
        return value

    # -- scalars ------------------------------------------------------------------
    def text(self, key: str, required: bool = False, default: str = "") -> str:
        """Free text (titles, notes, SQL, templates): tabs and newlines allowed."""
        value = self._get(key, required, default)
        if not isinstance(value, str):
            self._type_error(key, "a string", value)
        return self._plain(key, value, single_line=False)

    def line(self, key: str, required: bool = False, default: str = "") -> str:
        """A one-line value: names, paths, patterns, schedules."""
        return self._plain(key, self.text(key, required, default), single_line=True)

    def choice(self, key: str, choices: tuple[Choice, ...], default: Choice | None = None) -> Choice:
        value = self.line(key, required=default is None, default=default or "")
        for choice in choices:
            if value == choice:
                return choice
        self.fail(key, f"key \"{key}\" must be one of {', '.join(choices)}, got \"{shown(value)}\"")

    def _bounded(self, key: str, value: float, bounds: tuple[float, float]) -> None:
        low, high = bounds
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(key, f"key \"{key}\" must be a finite number, got {value}")
        if value < low:
            self.fail(key, f"key \"{key}\" must be >= {low}, got {short(value)}")
        if value > high:
            self.fail(key, f"key \"{key}\" must be <= {high}, got {short(value)}")

    def number(self, key: str, bounds: tuple[float, float], required: bool = False, default: float = 0) -> float:
        value = self._get(key, required, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self._type_error(key, "a number", value)
        self._bounded(key, value, bounds)
        return value

    def integer(self, key: str, bounds: tuple[int, int], required: bool = False, default: int = 0) -> int:
        value = self._get(key, required, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self._type_error(key, "an integer", value)
        self._bounded(key, value, bounds)
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self._get(key, False, default)
        if not isinstance(value, bool):
            self._type_error(key, "true or false", value)
        return value

    def check_identifier(self, value: str, what: str, key: str, *index: int) -> str:
        """`value` (read from `key`) as a plain SQL identifier, safe to back-quote."""
        if not is_identifier(value):
            self._fail((*self.path, key, *index), f"{self.label}: {what} \"{shown(value)}\" is not a plain SQL identifier "
                                                   f"{IDENTIFIER_RULE}")
        return value

    def identifier(self, key: str, what: str, required: bool = False, default: str = "") -> str:
        value = self.text(key, required, default)
        if value or required or default:
            self.check_identifier(value, what, key)
        return value

    def slug(self, key: str, what: str, seen: set[str], duplicate: str) -> str:
        """An id (step, cron job, checklist item, activity check): checked whole — no
        trailing newline — and unique among its siblings (`seen`). `what` and `duplicate`
        are the messages, with {} standing for the value."""
        value = self.text(key, required=True)
        if not is_slug(value):
            self._fail((*self.path, key), f"{what.replace('{}', shown(value))} {SLUG_RULE}")
        self.unique(key, value, seen, duplicate)
        return value

    def unique(self, key: str, value: str, seen: set[str], duplicate: str) -> None:
        """Refuse `value` if a sibling already used it (`duplicate`: the message, {} the value)."""
        if value in seen:
            self._fail((*self.path, key), duplicate.replace("{}", value))
        seen.add(value)

    # -- lists --------------------------------------------------------------------
    def _list(self, key: str, required: bool, wanted: str) -> list[TomlValue]:
        value = self._get(key, required, [])
        if not isinstance(value, list):
            self._type_error(key, wanted, value)
        if len(value) > MAX_ITEMS:
            self.fail(key, f"key \"{key}\" has {len(value)} entries, more than {MAX_ITEMS}")
        return value

    def texts(self, key: str, required: bool = False, single_line: bool = False) -> tuple[str, ...]:
        values = self._list(key, required, "a list of strings")
        out: list[str] = []
        for index, item in enumerate(values):
            if not isinstance(item, str):
                self.fail(key, f"key \"{key}\" item {index + 1} must be a string, got {type(item).__name__}", index)
            out.append(self._plain(key, item, single_line, index))
        return tuple(out)

    def lines(self, key: str, required: bool = False) -> tuple[str, ...]:
        """A list of one-line values (paths, names)."""
        return self.texts(key, required, single_line=True)

    def argv(self, key: str) -> tuple[str, ...]:
        """A command as an argv list (run without a shell). Refused if any word looks like
        a credential; the message names the kind, never the value."""
        values = self.texts(key)
        found = credential_in_argv(values)
        if found:
            index = next((i for i in range(len(values)) if credential_in_argv(values[: i + 1])), 0)
            self.fail(key, f"key \"{key}\" holds a credential ({found}); {CREDENTIAL_HINT}", index)
        return values

    def identifiers(self, key: str, what: str, required: bool = False) -> tuple[str, ...]:
        """A list of distinct plain SQL identifiers."""
        values = self.texts(key, required)
        for index, value in enumerate(values):
            self.check_identifier(value, what, key, index)
        if len(set(values)) != len(values):
            dup = next(v for v in values if values.count(v) > 1)
            self.fail(key, f"{what} \"{dup}\" listed twice")
        return values

    def known(self, key: str, what: str, declared: tuple[str, ...] | set[str], where: str = "",
              required: bool = False) -> tuple[str, ...]:
        """`identifiers` that must each be one of `declared` (`where`: what the error adds,
        e.g. " (not declared by any phase)")."""
        names = self.identifiers(key, what, required)
        for index, name in enumerate(names):
            if name not in declared:
                self.fail(key, f"unknown {what} \"{name}\"{where}", index)
        return names

    def array_of_tables(self, key: str) -> list[TableReader]:
        """`[[key]]`: one reader per entry, labelled `label key[n]`."""
        values = self._list(key, False, "a list of tables")
        return [TableReader(self._fail, item, (*self.path, key, index), f"{self.label} {key}[{index + 1}]".strip())
                for index, item in enumerate(values)]

    def section(self, key: str, required: bool = False) -> TableReader:
        """`[key]` (or `[label.key]`)."""
        value = self._get(key, required, {})
        return TableReader(self._fail, value, (*self.path, key), f"{self.label}.{key}" if self.label else key)

    def done(self) -> None:
        """Refuse keys we do not know: a typo must not silently drop a safety setting."""
        for key in self.data:
            if key not in self._allowed:
                suggestion = closest(key, self._allowed)
                hint = f" (did you mean \"{suggestion}\"?)" if suggestion else ""
                self.fail(key, f"unknown key \"{shown(key)}\"{hint}")
