"""Disable and re-enable the plan's cron jobs: "what would change" and "do exactly that".

`plan_stop` / `plan_start` compute a `CronChange` without writing anything: the lines
before and after, the fingerprint of the text they were computed from and the backup path.
`apply` writes it only if the crontab is still exactly that text, after a backup of it.
Deciding whether a stop is allowed is the engine's job, not this module's.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cockpit.cron import scan
from cockpit.cron.errors import CronChanged, CronError, CronRefused
from cockpit.cron.source import CronText, read_crontab, source_label, write_crontab
from cockpit.paths import fsync_dir
from cockpit.plan.model import CronJob, CronSource, Phase, Plan
from cockpit.plan.names import CONTROL, shown

Action = Literal["stop", "start"]


@dataclass(frozen=True)
class LineEdit:
    job_id: str
    number: int  # 1-based line number
    before: str
    after: str


@dataclass(frozen=True)
class LineNote:
    """A job line the change deliberately leaves alone, and why."""

    job_id: str
    number: int | None
    line: str
    reason: str


@dataclass(frozen=True)
class CronChange:
    action: Action
    phase_id: int
    source: CronSource
    fingerprint: str
    original_text: str
    new_text: str
    edits: tuple[LineEdit, ...]
    notes: tuple[LineNote, ...]
    backup_path: Path
    jobs: tuple[CronJob, ...]
    planned_at: float = field(default_factory=time.time)
    # Job lines a start cannot restore because someone else commented them out: when
    # nothing else would change, the start is refused rather than reported done.
    foreign: tuple[LineNote, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.edits

    @property
    def refusal(self) -> str | None:
        """Why applying this change must be refused, or None. A start that would restore
        nothing while a job's only line was commented out by hand must not read as done:
        the operator expects the job back, and the cockpit will not guess why it is off."""
        if self.action != "start" or self.edits or not self.foreign:
            return None
        where = "; ".join(f"{n.job_id} (line {n.number})" for n in self.foreign)
        return (f"cron-start restores nothing: {where} commented out without the cockpit's marker "
                f"(disabled by someone else) in {self.label}; not touched — re-enable by hand if intended")

    @property
    def label(self) -> str:
        return source_label(self.source)

    @property
    def target_state(self) -> str:
        return scan.DISABLED_BY_COCKPIT if self.action == "stop" else scan.ENABLED

    def dry_run(self) -> str:
        """The exact lines that change, for the operator to read before executing."""
        verb = "disable" if self.action == "stop" else "re-enable"
        out = [f"Crontab: {self.label} (sha256 {self.fingerprint[:12]})"]
        if self.empty:
            out.append(f"Nothing to {verb} for phase {self.phase_id}; the crontab will not be written.")
        else:
            count = len(self.edits)
            out.append(f"Phase {self.phase_id}: {verb} {count} line{'s' if count != 1 else ''}; backup first to {self.backup_path}")
            for edit in self.edits:
                out.append(f"  {edit.job_id} (line {edit.number}):")
                out.append(f"    - {edit.before}")
                out.append(f"    + {edit.after}")
        if self.refusal:
            out.append(f"Refused: {self.refusal}")
        if self.notes:
            out.append("Left alone:")
            for note in self.notes:
                where = f" (line {note.number})" if note.number else ""
                out.append(f"  {note.job_id}{where} {note.reason}")
                if note.line:
                    out.append(f"      {note.line}")
        return "\n".join(out)


@dataclass(frozen=True)
class CronResult:
    change: CronChange
    written: bool
    backup_path: Path | None
    fingerprint: str  # of the crontab after the change (verified by re-reading)
    states: tuple[tuple[str, str], ...]  # (job id, state) as re-read

    def state(self, job_id: str) -> str:
        return dict(self.states)[job_id]


def plan_stop(plan: Plan, phase: Phase, now: float | None = None, current: CronText | None = None) -> CronChange:
    """Comment out every enabled line of the phase's jobs, tagged with our marker."""
    return _plan(plan, phase, "stop", now, current)


def plan_start(plan: Plan, phase: Phase, now: float | None = None, current: CronText | None = None) -> CronChange:
    """Uncomment the phase's lines that carry OUR marker; lines commented by someone else
    are reported and left alone (we cannot know why they were disabled)."""
    return _plan(plan, phase, "start", now, current)


def _plan(plan: Plan, phase: Phase, action: Action, now: float | None, current: CronText | None) -> CronChange:
    now = time.time() if now is None else now
    current = current if current is not None else read_crontab(plan.cron_source)
    iso = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raw_lines = current.text.split("\n")
    edits: list[LineEdit] = []
    notes: list[LineNote] = []
    foreign: list[LineNote] = []
    for job in phase.cron:
        found = scan.job_lines(job, current.lines)
        if not found:
            notes.append(LineNote(job.id, None, "", "is not in the crontab"))
        for line in found:
            if any(e.number == line.number for e in edits):
                continue  # two jobs of the phase on one line: edit it once
            after = _edited(line, job, phase.id, iso, action)
            if after is None:
                note = LineNote(job.id, line.number, line.raw, _reason(line, action))
                notes.append(note)
                if action == "start" and scan.job_state(job, current.lines)[0] == scan.DISABLED_OTHER:
                    foreign.append(note)
                continue
            edits.append(LineEdit(job.id, line.number, line.raw, after))
            raw_lines[line.number - 1] = after
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = Path(plan.paths.backup_dir) / f"crontab-{stamp}-phase{phase.id}-{action}.bak"
    return CronChange(
        action=action,
        phase_id=phase.id,
        source=plan.cron_source,
        fingerprint=current.fingerprint,
        original_text=current.text,
        new_text="\n".join(raw_lines),
        edits=tuple(edits),
        notes=tuple(notes),
        backup_path=backup,
        jobs=phase.cron,
        planned_at=now,
        foreign=tuple(foreign),
    )


def _edited(line: scan.CronLine, job: CronJob, phase_id: int, iso: str, action: Action) -> str | None:
    if action == "stop":
        if line.state != scan.ENABLED:
            return None
        try:
            return scan.disable_line(line.raw, phase_id, job.id, iso)
        except ValueError as exc:
            raise CronError(f"cannot disable {shown(job.id)} (line {line.number}): {exc}; nothing changed") from None
    if line.state == scan.DISABLED_BY_COCKPIT:
        return scan.restore_line(line.raw)
    return None


def _reason(line: scan.CronLine, action: Action) -> str:
    if line.state == scan.DISABLED_OTHER:
        return "is commented out without the cockpit's marker (disabled by someone else)"
    if action == "stop":
        return "is already disabled by the cockpit"
    return "is already enabled"


def apply(change: CronChange, backup_dir: Path | str | None = None) -> CronResult:
    """Write `change` if the crontab is still the text it was computed from.

    Order matters: re-read and compare (refuse on any difference, nothing written), back
    up the exact original text (fsync'd), replace the crontab, re-read and verify each
    edited job is in the intended state. A failure at any step leaves the original crontab
    in place or, after the write, a backup that holds it."""
    if change.refusal:
        raise CronRefused(change.refusal)
    _check_safe(change)
    current = _unchanged(change)
    if change.empty:
        return CronResult(change, False, None, current.fingerprint, _states(change.jobs, current))
    directory = Path(backup_dir) if backup_dir is not None else change.backup_path.parent
    backup = _write_backup(directory / change.backup_path.name, change.original_text)
    try:
        # Again, right before writing: the backup's fsync leaves time for another edit.
        _unchanged(change)
    except CronError:
        backup.unlink(missing_ok=True)  # a backup of a text we did not replace would mislead
        raise
    write_crontab(change.source, change.new_text)
    after = read_crontab(change.source)
    states = _states(change.jobs, after)
    edited = {e.job_id for e in change.edits}
    wrong = [f"{job_id} is {state}" for job_id, state in states if job_id in edited and state != change.target_state]
    if wrong:
        raise CronError(
            f"{change.label} written but verification failed ({', '.join(wrong)}); the original is in {backup}"
        )
    return CronResult(change, True, backup, after.fingerprint, states)


def _check_safe(change: CronChange) -> None:
    """Defence in depth before anything is written: the change only rewrites the lines it
    names, adds no line, and adds no newline or control character to any line. One junk
    line in an /etc/cron.d file can make cron skip the whole file."""
    before = change.original_text.split("\n")
    after = change.new_text.split("\n")
    if len(before) != len(after):
        raise CronError(f"refusing to write {change.label}: the change would add or remove lines; nothing written")
    edited = {e.number for e in change.edits}
    changed = {number for number, (old, new) in enumerate(zip(before, after, strict=True), start=1) if old != new}
    if changed != edited:
        raise CronError(f"refusing to write {change.label}: the change touches lines it does not name; nothing written")
    for edit in change.edits:
        added = set(CONTROL.findall(edit.after)) - set(CONTROL.findall(edit.before))
        if "\n" in edit.after or added or after[edit.number - 1] != edit.after:
            raise CronError(f"refusing to write {change.label}: line {edit.number} would hold a control character; nothing written")


def _unchanged(change: CronChange) -> CronText:
    current = read_crontab(change.source)
    if current.fingerprint != change.fingerprint:
        raise CronChanged(
            f"{change.label} changed since this change was planned "
            f"(sha256 {change.fingerprint[:12]} -> {current.fingerprint[:12]}); nothing written, plan again"
        )
    return current


def _states(jobs: tuple[CronJob, ...], text: CronText) -> tuple[tuple[str, str], ...]:
    return tuple((job.id, scan.job_state(job, text.lines)[0]) for job in jobs)


def _write_backup(path: Path, text: str) -> Path:
    """Create the backup without ever overwriting an earlier one, and make it durable
    before the crontab is touched."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path
        for n in range(1, 1000):
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:
                candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        else:
            raise CronError(f"cannot choose a free backup name next to {path}")
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8", "surrogateescape"))
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(candidate.parent)
    except OSError as exc:
        raise CronError(f"cannot write the crontab backup in {path.parent}: {exc.strerror or exc}; nothing changed") from None
    return candidate
