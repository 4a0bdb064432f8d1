"""A quick yes for plain cron schedules, so loading a plan need not import croniter.

croniter (with dateutil) costs 25-50 ms to import, and the plan is loaded before the
TUI's first frame. Almost every schedule in a plan is a plain five-field expression of
numbers, `*`, ranges, steps and lists; this module accepts exactly those, within the
bounds croniter enforces, and says "not sure" for everything else (names such as `mon`,
`@daily`, a sixth field, `L`, `#`, odd spacing, descending ranges). The loader then asks
croniter itself, so what is valid is still croniter's call: this is a strict subset of
what `croniter.is_valid` accepts (tests/test_cron_syntax.py checks it against croniter
with generated schedules).
"""

from __future__ import annotations

import re

# (lowest, highest) per field: minute, hour, day of month, month, day of week. Sunday as 7
# is left to croniter.
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_ITEM = re.compile(r"(?:\*|(\d{1,2})(?:-(\d{1,2}))?)(?:/(\d{1,2}))?")


def plainly_valid(schedule: str) -> bool:
    """True when `schedule` is a plain five-field cron expression croniter accepts; False
    means only "ask croniter" (it may still be valid)."""
    fields = schedule.split(" ")
    if len(fields) != len(_BOUNDS):
        return False
    return all(_field_ok(text, low, high) for text, (low, high) in zip(fields, _BOUNDS, strict=True))


def _field_ok(text: str, low: int, high: int) -> bool:
    for item in text.split(","):
        match = _ITEM.fullmatch(item)
        if match is None:
            return False
        first, last, step = match.groups()
        if first is not None:
            start = int(first)
            end = int(last) if last is not None else start
            if not low <= start <= end <= high:
                return False
            if step is not None and last is None:
                return False  # `5/10`: croniter's reading of it is its own business
        if step is not None and not 1 <= int(step) <= high - low + 1:
            return False
    return True
