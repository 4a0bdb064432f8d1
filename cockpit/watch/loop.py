"""The watcher: one headless process per target, for the 24-48 h after a rollback.

Each refresh it reads the journal's new rows (what the operators did), reads the live
system through the TUI's own `LiveSystem`, and turns the difference between the two
into alert episodes: an alert is journalled when a condition appears (and queued for
notification), and cleared when it goes away. Everything it knows survives in the
journal, so a restart after `kill -9` resumes the same watch with the same open alerts.

It never takes the operator lock and writes only watch, alert, heartbeat and
notification events: an observer next to the operator, not a second operator.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cockpit.journal import Journal, JournalError
from cockpit.plan.model import Plan
from cockpit.probes.drift import Alert
from cockpit.probes.snapshot import Snapshot
from cockpit.text import clean

from . import record
from .expected import (
    CONNECTION_KIND,
    EXPECTED_KINDS,
    Baseline,
    Expectation,
    baseline_of,
    conditions,
    expectation,
)
from .notifier import Message, MessageKey, Notifier
from .record import WATCHER_SOURCE, AlertKey, WatchPeriod
from .sdnotify import SystemdNotifier

NOTIFY_FAILED = "notify_failed"
OWN_KINDS = frozenset({"watch_heartbeat", "watch_baseline", "alert", "alert_clear", "notify_sent", "notify_failed"})
# What the watcher derives from the operators' journal — the expected state, a drill in
# progress, the watch period — and so the only kinds it follows each refresh. Each fold
# reads its own kinds (SQL-filtered, cached, extended from the last id), never the whole
# history: a watch next to a 100k-event journal costs what it costs next to a new one,
# and the output lines, notes and ticks operators add meanwhile are never read.
FOLLOWED_KINDS = EXPECTED_KINDS | record.DRILL_MARK_KINDS | record.WATCH_PERIOD_KINDS


@dataclass(frozen=True)
class WatchSettings:
    """How this watcher runs. `refresh`/`heartbeat` default to the plan's refresh and one
    minute; COCKPIT_WATCH_REFRESH / COCKPIT_WATCH_HEARTBEAT override them (tests, benches)."""

    hours: float
    refresh: float
    heartbeat: float = 60.0
    drill: bool = False
    config: Path | None = None


def stop_request_path(pidfile: Path) -> Path:
    """`cockpit watch --stop` leaves its operator's name here before signalling."""
    return Path(f"{pidfile}.stop")


class Probe(Protocol):
    """What the watcher needs of the live system (cockpit.live.LiveSystem): one snapshot
    per refresh, judging drift only for the phases it names as rolled back."""

    async def refresh(self, rolled_back: set[int] | None = None) -> Snapshot: ...


class Watcher:
    def __init__(self, plan: Plan, settings: WatchSettings, journal: Journal, live: Probe, *,
                 notifier: Notifier | None = None, test_notifier: Notifier | None = None,
                 systemd: SystemdNotifier | None = None, pidfile: Path | None = None,
                 clock: Callable[[], float] = time.time, say: Callable[[str], None] | None = None) -> None:
        self.plan = plan
        self.settings = settings
        self.journal = journal
        self.live = live
        self.notifier = notifier
        self.test_notifier = test_notifier
        self.systemd = systemd or SystemdNotifier("")
        self.pidfile = pidfile
        self.clock = clock
        self.say = say or (lambda line: print(line, flush=True))
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.period: WatchPeriod | None = None
        self.episodes: dict[AlertKey, int] = {}
        self.episode_since: dict[AlertKey, float] = {}
        self.baselines: dict[int, tuple[int, Baseline]] = {}
        self.expected = Expectation(frozenset(), frozenset(), {})
        self.refreshes = 0
        self.drill_marker = False
        self._stop = asyncio.Event()
        self._stop_reason = ""
        self._seen_id = 0
        self._last_beat = 0.0
        self._beat_state: tuple[tuple[int, ...], str] | None = None
        self._channel_events: list[tuple[str, str, str]] = []  # from the notifier thread
        self._watched_tables = {
            p.id: {t for step in p.migration_steps for t in (*step.guard_tables, *step.drop_tables)} for p in plan.phases
        }

    # -- lifecycle ------------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        if not self._stop_reason:
            self._stop_reason = reason
        self._stop.set()

    def _on_signal(self, name: str) -> None:
        who = ""
        if self.pidfile is not None:
            path = stop_request_path(self.pidfile)
            try:
                who = clean(path.read_text(encoding="utf-8").strip())[:80]
                path.unlink()
            except OSError:
                pass
        self.request_stop(f"{name}{' (cockpit watch --stop by ' + who + ')' if who else ''}")

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig.name)
            except (RuntimeError, ValueError, NotImplementedError):
                pass
        self._begin()
        for n in (self.notifier, self.test_notifier):
            if n is not None:
                n.on_failure = lambda channel, error: self._channel_events.append(("fail", channel, error))
                n.on_recovery = lambda channel: self._channel_events.append(("ok", channel, ""))
                n.start()
        self._resend_unnotified()
        ready = False
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                await self.tick()
                if not ready:
                    ready = True
                    self.systemd.ready(self._status())
                else:
                    self.systemd.ping(self._status())
                if self._stop.is_set():
                    break
                wait = max(0.0, self.settings.refresh - (time.monotonic() - started))
                try:
                    await asyncio.wait_for(self._stop.wait(), wait)
                except TimeoutError:
                    pass
        finally:
            reason = self._stop_reason or "stopped"
            self.systemd.stopping(reason)
            self._append("watch_end", data={"reason": reason, "pid": self.pid, "host": self.host,
                                            "refreshes": self.refreshes}, quiet=True)
            self.say(f"watch: ended ({reason})")
            for n in (self.notifier, self.test_notifier):
                if n is not None:
                    n.stop()
        return 0

    def _begin(self) -> None:
        journal = self.journal
        self._seen_id = journal.version(FOLLOWED_KINDS)
        now = self.clock()
        period = record.watch_period(journal.events(kinds=record.WATCH_PERIOD_KINDS))
        if period is not None and period.running and period.ends_at > now:
            self.period = period
            self.say(f"watch: resuming the watch started {_stamp(period.started_at)}, ends {_stamp(period.ends_at)}")
        else:
            if period is not None and period.running:
                self._append("watch_end", data={"reason": "finished while no watcher ran"})
            start_id = self._append("watch_start", data={
                "hours": float(self.settings.hours), "pid": self.pid, "host": self.host, "drill": self.settings.drill,
                "config": str(self.settings.config or self.plan.path),
            })
            self.period = record.watch_period(journal.events(kinds=record.WATCH_PERIOD_KINDS)) or WatchPeriod(
                start_id, now, now + self.settings.hours * 3600, self.settings.hours, self.settings.drill)
            self.say(f"watch: started for {self.settings.hours:g} h, ends {_stamp(self.period.ends_at)}")
        self.episodes = record.open_episodes(journal.events(kinds=record.EPISODE_KINDS))
        for view in record.alert_views(journal.events(kinds=record.ALERT_VIEW_KINDS)):
            if self.episodes.get(view.key) == view.id:
                self.episode_since[view.key] = view.at
        for e in journal.events(kinds=record.BASELINE_KINDS):
            if e.phase is not None:
                self.baselines[e.phase] = (int(e.data.get("mark", 0)), _journalled_baseline(e.data.get("tables")))
        self.drill_marker = record.drill_marked(journal.events(kinds=record.DRILL_MARK_KINDS))
        self.expected = expectation(self.plan, journal.events(kinds=EXPECTED_KINDS), now)
        for kinds in (record.EPISODE_KINDS, record.BASELINE_KINDS):  # read at the start only: not kept for 48 h
            journal.release(kinds)

    def _resend_unnotified(self) -> None:
        try:
            if self.period is None:
                return
            views = {v.id: v for v in record.alert_views(self.journal.events(kinds=record.ALERT_VIEW_KINDS))}
            for alert_id in record.unnotified(self.journal.events(kinds=record.UNNOTIFIED_KINDS), self.period.start_id):
                view = views.get(alert_id)
                if view is not None and view.cleared_at is None:
                    self._notify(view.id, view.key, view.kind, view.phase_id, view.message, view.at)
        finally:
            for kinds in (record.ALERT_VIEW_KINDS, record.UNNOTIFIED_KINDS):  # read at the start only
                self.journal.release(kinds)

    # -- one refresh ------------------------------------------------------------------------
    async def tick(self) -> None:
        now = self.clock()
        self._follow_journal(now)
        if self._stop.is_set():
            return
        if self.period is not None and now >= self.period.ends_at:
            self.request_stop(f"finished: {self.period.hours:g} h watched")
            return
        try:
            snap: Snapshot | None = await self.live.refresh(set(self.expected.judged))
        except Exception as exc:  # noqa: BLE001 - a probe bug must not end a day-long watch
            snap = None
            self.say(f"watch: refresh failed: {exc.__class__.__name__}: {clean(str(exc))}")
        self.refreshes += 1
        if snap is not None and not self._acted_during_probe():
            self._rebaseline(snap)
            self._judge(snap)
        self._channels()
        self._heartbeat(now, snap)

    def _acted_during_probe(self) -> bool:
        """Someone journalled an action while the live probe ran (e.g. `flags-on` landing
        between the journal read and the flag read): the reading may already show its
        effect while the expectation predates it, which would be a false alarm. Judge on
        the next refresh, against the expectation that includes it. One pragma when
        nothing was committed; the watcher's own rows are never among the kinds asked."""
        return self.journal.version(FOLLOWED_KINDS) > self._seen_id

    def _follow_journal(self, now: float) -> None:
        journal = self.journal
        newest = journal.version(FOLLOWED_KINDS)
        if newest == self._seen_id and not self.expected.settling:
            return
        seen, self._seen_id = self._seen_id, newest
        self.expected = expectation(self.plan, journal.events(kinds=EXPECTED_KINDS), now)
        if newest == seen:  # only the clock moved (a phase settling): nothing else to fold
            return
        self.drill_marker = record.drill_marked(journal.events(kinds=record.DRILL_MARK_KINDS))
        periods = journal.events(kinds=record.WATCH_PERIOD_KINDS)
        period = record.watch_period(periods)
        if period is not None and self.period is not None and period.start_id == self.period.start_id:
            if period.ends_at != self.period.ends_at and period.running:
                self.say(f"watch: extended to {period.hours:g} h, ends {_stamp(period.ends_at)}")
            self.period = period
            if not period.running:  # someone ended it (e.g. --stop while this one was not answering)
                self.request_stop(f"ended in the journal: {period.end_reason}")
        for e in periods:
            if e.id > seen and e.kind == "watch_start" and (self.period is None or e.id != self.period.start_id):
                self.request_stop("another watch started")

    def _rebaseline(self, snap: Snapshot) -> None:
        if snap.connection.state != "connected":
            return
        for phase_id in sorted(self.expected.judged):
            mark = self.expected.marks.get(phase_id, 0)
            held = self.baselines.get(phase_id)
            if held is not None and held[0] == mark:
                continue
            base = baseline_of(snap, phase_id)
            self.baselines[phase_id] = (mark, base)
            self._append("watch_baseline", phase=phase_id, data={"mark": mark, "tables": {k: list(v) for k, v in base.items()}})

    def _judge(self, snap: Snapshot) -> None:
        found = conditions(snap, self.expected, {p: b for p, (_m, b) in self.baselines.items()}, self._watched_tables)
        for key, alert in found.items():
            if key not in self.episodes:
                self._raise(key, alert)
        for key in list(self.episodes):
            kind, phase_id, _subject = key
            if key in found or kind == NOTIFY_FAILED:
                continue
            if phase_id is not None and phase_id in self.expected.settling:
                continue
            self._clear(key, self._clear_note(key, snap))

    def _clear_note(self, key: AlertKey, snap: Snapshot) -> str:
        kind, phase_id, _subject = key
        if kind == CONNECTION_KIND:
            since = self.episode_since.get(key)
            return f"database reachable again{' after ' + _span(snap.taken_at - since) if since else ''}"
        if phase_id is not None and phase_id not in self.expected.watched:
            return f"phase {phase_id} is no longer rolled back per the journal: it left the watch"
        return "back to the expected state"

    def _raise(self, key: AlertKey, alert: Alert) -> None:
        message = clean(alert.message)
        alert_id = self._append("alert", phase=alert.phase_id, data={
            "kind": alert.kind, "subject": clean(alert.subject), "message": message, "at": alert.at,
            "source": WATCHER_SOURCE, "drill": self._drill(),
        })
        if not alert_id:
            return
        self.episodes[key] = alert_id
        self.episode_since[key] = alert.at
        self.say(f"watch: ALERT #{alert_id} {alert.kind}: {message}")
        self._notify(alert_id, key, alert.kind, alert.phase_id, message, alert.at)

    def _clear(self, key: AlertKey, note: str) -> None:
        alert_id = self.episodes.pop(key)
        since = self.episode_since.pop(key, None)
        if self._append("alert_clear", data={"event_id": alert_id, "note": note}):
            self.say(f"watch: cleared #{alert_id}: {note}")
            if key[0] == CONNECTION_KIND:
                self._notify(alert_id, ("resolved", *key), "resolved", None, f"{note} (alert #{alert_id})", since or self.clock())

    def _channels(self) -> None:
        while self._channel_events:
            what, channel, error = self._channel_events.pop(0)
            key: AlertKey = (NOTIFY_FAILED, None, channel)
            if what == "fail" and key not in self._safe_episodes():
                self._raise(key, Alert(NOTIFY_FAILED, None, channel,
                                       f"notifications to {channel} are failing: {error}", self.clock()))
            elif what == "ok" and key in self.episodes:
                self._clear(key, f"notifications to {channel} delivered again")

    def _safe_episodes(self) -> dict[AlertKey, int]:
        return dict(self.episodes)

    # -- notification -----------------------------------------------------------------------
    def _drill(self) -> bool:
        return bool(self.settings.drill or (self.period is not None and self.period.drill) or self.drill_marker)

    def _notify(self, alert_id: int, key: MessageKey, kind: str, phase_id: int | None, message: str, since: float) -> None:
        drill = self._drill()
        notifier = self.test_notifier if drill else self.notifier
        if notifier is None:
            return
        target = self.plan.target.label
        where = f"phase {phase_id}" if phase_id is not None else "the target"
        if phase_id is not None:
            try:
                where = self.plan.phase(phase_id).title
            except KeyError:
                pass
        config = str(Path(self.settings.config or self.plan.path).resolve())
        title = f"{'[DRILL] ' if drill else ''}rollback-cockpit {'RESOLVED' if kind == 'resolved' else 'ALERT'}: {kind} on {target}"
        body = "\n".join([
            f"Target: {target}",
            f"Phase: {where}",
            f"What: {message}",
            f"Since: {time.strftime('%Y-%m-%d %H:%M:%S %Z', time.localtime(since))}",
            f"See more: cockpit alerts --config {config}",
            f"Acknowledge: cockpit ack {alert_id} --config {config}",
        ])
        notifier.submit(Message(alert_id, key, title, body))

    # -- heartbeat ---------------------------------------------------------------------------
    def _heartbeat(self, now: float, snap: Snapshot | None) -> None:
        db = snap.connection.state if snap is not None else "error"
        state = (tuple(sorted(self.expected.watched)), db)
        if state == self._beat_state and now - self._last_beat < self.settings.heartbeat:
            return
        if state != self._beat_state and self._beat_state is not None:
            self.say(f"watch: watching phases {', '.join(map(str, state[0])) or 'none'}; database {db}")
        self._beat_state = state
        # small on purpose: every TUI caches every journal row for the whole watch
        if self._append("watch_heartbeat", data={
            "pid": self.pid, "host": self.host, "interval": self.settings.heartbeat, "phases": list(state[0]), "db": db,
        }, quiet=True):
            self._last_beat = now

    def _status(self) -> str:
        phases = ", ".join(str(p) for p in sorted(self.expected.watched)) or "none"
        left = (self.period.ends_at - self.clock()) / 3600 if self.period else 0
        return f"watching phases {phases}; {len(self.episodes)} open alert(s); {left:.1f} h left"

    def _append(self, kind: str, *, phase: int | None = None, data: dict[str, object] | None = None, quiet: bool = False) -> int:
        try:
            return self.journal.append(kind, phase=phase, data=data)
        except JournalError as exc:
            if not quiet:
                self.say(f"watch: {exc}")
            print(f"cockpit watch: {exc}", file=sys.stderr, flush=True)
            return 0


def _journalled_baseline(value: object) -> Baseline:
    """A `watch_baseline` event's tables back from JSON (rows as lists) into a Baseline."""
    if not isinstance(value, dict):
        return {}
    return {str(name): (row[0], row[1], row[2]) for name, row in value.items() if isinstance(row, (list, tuple)) and len(row) == 3}


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def _span(seconds: float) -> str:
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
