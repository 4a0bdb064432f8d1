"""Turn raw crontab text into lines the cockpit can reason about.

Each raw line is parsed on its own with python-crontab. Parsing the whole tab would be
simpler, but python-crontab's whole-tab model folds comment lines into the next job and
re-renders unrelated lines on write; working line by line lets edits touch exactly the
lines of the plan's jobs and leave every other byte as it was.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from crontab import CronItem, CronTab

from cockpit.plan.model import CronJob
from cockpit.plan.names import shown

# python-crontab logs every unparsable line (plain comments included) through the
# logging module; unconfigured, that lands on stderr and would scribble over the TUI.
logging.getLogger("crontab").setLevel(logging.CRITICAL)

MARKER_TAG = "rollback-cockpit: disabled"
# The suffix edit.py appends when it comments a job out. Exactly one space before the
# `#` so removing the suffix restores the original line byte for byte.
_MARKER_RE = re.compile(
    r"(?P<marker> # rollback-cockpit: disabled (?P<phase>\d+) (?P<job>[A-Za-z0-9_.-]+) (?P<at>\S+))(?P<tail>\r?)\Z"
)
_MARKER_JOB = re.compile(r"[A-Za-z0-9_.-]+")
_MARKER_AT = re.compile(r"[0-9A-Za-z:.+-]+")
DISABLED_PREFIX = "# "

ENABLED = "enabled"
DISABLED_BY_COCKPIT = "disabled_by_cockpit"
DISABLED_OTHER = "disabled_other"
ABSENT = "absent"


def fingerprint(text: str) -> str:
    """sha256 of the text exactly as read, so any edit behind our back is noticed."""
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Marker:
    phase_id: int
    job_id: str
    at: str


@dataclass(frozen=True)
class CronLine:
    """One crontab line that parses as a cron job (enabled or commented out)."""

    number: int  # 1-based line number in the text
    raw: str
    enabled: bool
    schedule: str
    command: str
    user: str = ""
    comment: str = ""
    marker: Marker | None = None

    @property
    def state(self) -> str:
        if self.enabled:
            return ENABLED
        return DISABLED_BY_COCKPIT if self.marker is not None else DISABLED_OTHER


def marker_suffix(phase_id: int, job_id: str, at: str) -> str:
    return f" # {MARKER_TAG} {phase_id} {job_id} {at}"


def disable_line(raw: str, phase_id: int, job_id: str, at: str) -> str:
    """Comment a job line out, tagged with our marker; `restore_line` undoes it exactly.
    Raises ValueError rather than build a marker `restore_line` could not read back or a
    line that is not one line (the plan's ids are validated; this is the second lock)."""
    if not isinstance(phase_id, int) or phase_id < 0 or not _MARKER_JOB.fullmatch(job_id) or not _MARKER_AT.fullmatch(at):
        raise ValueError(f"unsafe crontab marker for job \"{shown(job_id)}\"")
    if "\n" in raw:
        raise ValueError("the crontab line holds a newline")
    core = raw.rstrip("\r")
    return DISABLED_PREFIX + core + marker_suffix(phase_id, job_id, at) + raw[len(core):]


def restore_line(raw: str) -> str | None:
    """The original line of a line disabled by the cockpit, or None if it is not ours."""
    match = _MARKER_RE.search(raw)
    if match is None or not raw.startswith(DISABLED_PREFIX):
        return None
    return raw[len(DISABLED_PREFIX):match.start("marker")] + match.group("tail")


@lru_cache(maxsize=2)
def _owner(system: bool) -> CronTab:
    # An empty tab only tells CronItem whether lines carry a user field (system form).
    return CronTab(user=False) if system else CronTab(tab="")


def parse_line(number: int, raw: str, system: bool = False) -> CronLine | None:
    """Parse one raw line; None for blanks, variables, plain comments and junk."""
    text = raw.strip()
    if not text:
        return None
    marker_match = _MARKER_RE.search(raw)
    marker = None
    original = raw
    if marker_match is not None and raw.startswith(DISABLED_PREFIX):
        marker = Marker(int(marker_match.group("phase")), marker_match.group("job"), marker_match.group("at"))
        original = restore_line(raw) or raw
    item = CronItem.from_line(original, cron=_owner(system))
    if not item.is_valid():
        return None
    enabled = bool(item.enabled) and marker is None
    return CronLine(
        number=number,
        raw=raw,
        enabled=enabled,
        schedule=str(item.slices),
        command=item.command or "",
        user=(item.user or "") if system else "",
        comment=item.comment or "",
        marker=marker,
    )


def parse_text(text: str, system: bool = False) -> tuple[CronLine, ...]:
    lines = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = parse_line(number, raw, system)
        if line is not None:
            lines.append(line)
    return tuple(lines)


@lru_cache(maxsize=256)
def script_pattern(script: str) -> re.Pattern[str]:
    """The script as a whole path component or word: `sync.php` matches
    `/app/cron/sync.php` and `php sync.php`, never `old_sync.php` or `sync.php.bak`."""
    return re.compile(r"(?:^|(?<=[\s/'\"=;&|(]))" + re.escape(script) + r"(?=\Z|[\s'\";&|)<>])")


def matches(job: CronJob, line: CronLine) -> bool:
    return script_pattern(job.script).search(line.command) is not None


def job_lines(job: CronJob, lines: Iterable[CronLine]) -> tuple[CronLine, ...]:
    return tuple(line for line in lines if matches(job, line))


def job_state(job: CronJob, lines: Iterable[CronLine]) -> tuple[str, CronLine | None]:
    """The job's overall state and the line that decides it. One enabled line means the
    job still runs, whatever other commented copies exist."""
    found = job_lines(job, lines)
    for wanted in (ENABLED, DISABLED_BY_COCKPIT, DISABLED_OTHER):
        for line in found:
            if line.state == wanted:
                return wanted, line
    return ABSENT, None
