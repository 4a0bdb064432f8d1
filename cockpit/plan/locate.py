"""Map a key path in a TOML document back to the line it was written on.

tomllib returns plain dicts with no positions, but an operator fixing a broken plan at
3 a.m. needs `phases.toml:42`, not a key path. This scanner follows table headers and
`key =` lines; it does not need to understand values, only where keys start.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")

PathKey = tuple[object, ...]


class LineLocator:
    """Answers "which line holds this key path?" for one TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[PathKey, int] = {}
        counters: dict[tuple[str, ...], int] = {}
        current: PathKey = ()
        in_multiline: str | None = None
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            if in_multiline:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                names = tuple(part.strip().strip('"') for part in header.group(2).split("."))
                current = self._resolve(names, counters, is_array=header.group(1) == "[[")
                self._lines.setdefault(current, number)
                continue
            key = _KEY.match(line)
            if key:
                name = key.group(1).strip('"')
                self._lines.setdefault((*current, name), number)
                for quote in ('"""', "'''"):
                    if line.count(quote) % 2 == 1:
                        in_multiline = quote
                if not in_multiline and line.rstrip().endswith("["):
                    self._scan_array_items((*current, name), number, lines)

    def _resolve(self, names: tuple[str, ...], counters: dict[tuple[str, ...], int], is_array: bool) -> PathKey:
        """Turn `phase.step` into ("phase", 3, "step", 1) using the array counters."""
        path: list[object] = []
        for depth, name in enumerate(names):
            path.append(name)
            prefix = tuple(str(p) for p in path)
            last = depth == len(names) - 1
            if last and is_array:
                counters[prefix] = counters.get(prefix, -1) + 1
                # a new element resets the counters of arrays nested inside it
                for key in [k for k in counters if len(k) > len(prefix) and k[: len(prefix)] == prefix]:
                    del counters[key]
                path.append(counters[prefix])
            elif prefix in counters:
                path.append(counters[prefix])
        return tuple(path)

    def _scan_array_items(self, base: PathKey, start: int, lines: list[str]) -> None:
        """Record the line of each element of a multi-line array (one per line) that
        opens on line `start` (1-based); stops at its closing bracket."""
        index = 0
        for offset in range(1, len(lines) - start + 1):
            stripped = lines[start + offset - 1].strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("]"):
                return
            self._lines.setdefault((*base, index), start + offset)
            index += 1

    def line(self, path: PathKey) -> int | None:
        """The line of the deepest prefix of `path` that is known."""
        for end in range(len(path), 0, -1):
            found = self._lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None
