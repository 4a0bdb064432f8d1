"""The watch: 24-48 h after a rollback, everything that could quietly undo it or hurt.

The watch itself is a separate process (`cockpit watch`), so it outlives this terminal.
This screen attaches to it through the journal: the watcher's heartbeat age, its end
time, its alerts (open until acknowledged, marked when the condition went away), and
around them the TUI's own reading of error logs, activity, the connection and the host.
When no watcher runs, `s` starts one in the background. Alert text comes from the live
system, so it is shown as plain text, never parsed as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Static

from cockpit.engine.evidence import spike
from cockpit.probes.snapshot import Snapshot
from cockpit.text import clean
from cockpit.tui import format as fmt
from cockpit.tui.messages import JournalChanged
from cockpit.tui.screens.base import CockpitScreen
from cockpit.tui.screens.watch_start import WatchStartScreen
from cockpit.tui.widgets.repaint import RepaintStatic
from cockpit.tui.widgets.sparkline import sparkline
from cockpit.watch.record import (
    ALERT_VIEW_KINDS,
    WATCH_PERIOD_KINDS,
    WATCHER_KINDS,
    Heartbeat,
    WatchPeriod,
    alert_views,
    live_watcher,
    watch_period,
)


def start_or_open_watch(screen: CockpitScreen, phase_id: int | None) -> None:
    """`w`: show the watch; when no watcher runs, first offer to start one (24 h or 48 h)."""
    view = screen.cockpit_app
    if live_watcher(screen.engine.journal.events(kinds=WATCHER_KINDS), view.now()) is not None:
        view.open_watch(phase_id)
        return

    def chosen(hours: float | None) -> None:
        if hours:
            launch_watcher(screen, hours)
        view.open_watch(phase_id)

    screen.app.push_screen(WatchStartScreen(phase_id, view.plan.watch.hours, view.plan.watch.extended_hours), chosen)


def launch_watcher(screen: CockpitScreen, hours: float) -> None:
    """`cockpit watch --detach` in a worker thread: the watcher is a process of its own,
    in its own session, so quitting the TUI (or losing SSH) leaves it running. It is an
    observer: a read-only cockpit may start it too. The worker is the app's, so leaving
    the screen does not orphan its answer."""
    app, plan, operator = screen.app, screen.cockpit_app.plan, screen.cockpit_app.operator

    def spawn() -> None:
        from cockpit.operator import operator_name
        from cockpit.watch.pidfile import pidfile_path
        from cockpit.watch.spawn import log_path, spawn_detached

        args = ["--hours", f"{hours:g}", "--operator", operator or operator_name()]
        result = spawn_detached(plan.path.resolve(), args, pidfile_path(plan.paths.journal, plan.target.label), log_path(plan.target.label))
        if result.ok:
            app.call_from_thread(app.notify, f"Watcher started: pid {result.pid}, {hours:g} h (log {result.log})", markup=False)
        else:
            app.call_from_thread(app.notify, f"Watcher did not start: {clean(result.detail)}", severity="error", markup=False)
        app.post_message(JournalChanged())  # thread-safe

    app.run_worker(spawn, thread=True, group="watch-start", exit_on_error=False)


def watch_header(period: WatchPeriod | None, beat: Heartbeat | None, now: float) -> str:
    if (period is None or not period.running) and beat is None:
        return fmt.styled("No watcher running. Press s to start one (it keeps running after you quit).", "b $warning")
    left = period.ends_at - now if period is not None else 0
    if beat is None:
        if left <= 0 and period is not None:
            return fmt.styled(f"Watch finished at {fmt.stamp(period.ends_at)} ({period.hours:g} h)", "b $success")
        return (
            fmt.styled("NO WATCHER RUNNING", "b $error") + " although the watch ends "
            + fmt.styled(fmt.stamp(period.ends_at) if period else "?", "b") + ". Press s to start one."
        )
    phases = ", ".join(str(p) for p in beat.phases) or "none rolled back yet"
    hours = period.hours if period is not None else 0
    done = 1 - left / (hours * 3600) if hours else 0
    bar_width = 16
    filled = max(0, min(bar_width, int(done * bar_width)))
    bar = "█" * filled + "░" * (bar_width - filled)
    ends = fmt.stamp(period.ends_at) if period is not None else "?"
    db_style = "$success" if beat.db == "connected" else "b $error"
    return (
        f"[b]Watcher[/b] pid {beat.pid} on {fmt.styled(clean(beat.host), '')} · heartbeat "
        f"{fmt.styled(fmt.duration(beat.age(now)) + ' ago', 'b $accent')} · db {fmt.styled(beat.db, db_style)}\n"
        f"{fmt.styled(fmt.countdown(max(0, left)), 'b $accent')} left {fmt.styled(bar, '$accent')} "
        f"{fmt.styled(f'{hours:g} h, ends {ends}', '$text-muted')} · phases {fmt.styled(phases, 'b')}"
    )


def health_markup(snap: Snapshot | None, now: float) -> str:
    """Error logs, activity, connection, host: one line each so it fits 80×24."""
    if snap is None:
        return fmt.styled("no reading yet", "$text-muted")
    lines: list[str] = []
    for phase in snap.phases:
        for log in phase.logs:
            if not log.exists:
                why = log.freshness.error or "not found"  # e.g. a pattern the regex engine refused
                lines.append(f"[b]log {phase.id}[/b] {fmt.styled(log.path, '$text-muted')} {fmt.styled(why, '$warning')}")
                continue
            style = "b $error" if spike(log) else "$success"
            lines.append(
                f"[b]log {phase.id}[/b] {fmt.styled(f'{log.matches_last_minute}/min', style)} "
                f"{fmt.styled(sparkline(log.rate_per_minute), style)} {fmt.styled(log.pattern, '$text-muted')} "
                f"{fmt.styled(f'total {log.matches_total}', '$text-muted')} {fmt.age_note(log.freshness, now)}"
            )
        for act in phase.activity:
            rows = "?" if act.recent_rows is None else str(act.recent_rows)
            style = "$text-muted" if act.recent_rows is None else ("b $warning" if act.recent_rows else "$success")
            lines.append(
                f"[b]use {phase.id}[/b] {fmt.styled(f'{rows} rows/{act.window_minutes}m', style)} "
                f"{fmt.styled(act.text, '$text-muted')} {fmt.age_note(act.freshness, now)}"
            )
    conn = snap.connection
    if conn.state == "connected":
        lines.append(f"[b]db[/b]    {fmt.styled('connected', '$success')} {fmt.styled(conn.server, '$text-muted')} · "
                     f"{conn.queries_last_refresh} queries/refresh · refresh took {snap.refresh_seconds:.2f}s")
    else:
        since = f" for {fmt.duration(now - conn.lost_since)}" if conn.lost_since else ""
        retry = f", retry {fmt.clock_time(conn.next_retry_at)}" if conn.next_retry_at else ""
        lines.append(f"[b]db[/b]    {fmt.styled(conn.state.upper() + since, 'b $error')} "
                     f"{fmt.styled((conn.error or '') + retry, '$text-muted')}")
    for notice in conn.notices:
        lines.append(f"[b]note[/b]  {fmt.styled(notice, '$warning')}")
    host = snap.host
    if host is not None:
        disks = " ".join(
            fmt.styled(f"{path} {used:.0f}% ({fmt.size(free)} free)", "b $error" if used >= 90 else "")
            for path, free, used in host.disks
        )
        load_style = "b $warning" if host.cpu_percent >= 90 else ""
        lines.append(
            f"[b]host[/b]  load {fmt.styled(f'{host.load_1m:.2f}/{host.load_5m:.2f}', load_style)} · cpu {host.cpu_percent:.0f}% · "
            f"mem {host.memory_percent:.0f}% · {disks}"
        )
        lines.append(
            f"[b]self[/b]  cockpit cpu {host.own_cpu_percent:.1f}% · rss {fmt.size(host.own_rss_bytes)} {fmt.age_note(host.freshness, now)}"
        )
    return "\n".join(lines)


class WatchScreen(CockpitScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        # not the WRITE_ACTIONS names: acking and starting the observer need no operator lock
        Binding("a", "ack_alert", "Acknowledge"),
        Binding("s", "launch_watcher", "Start watcher"),
    ]

    def __init__(self, phase_id: int | None = None) -> None:
        super().__init__(id="watch-screen")
        self.phase_id = phase_id
        self._shown: list[str] | None = None  # the open alerts the table shows (rebuilt only when they change)

    def compose_body(self) -> ComposeResult:
        yield RepaintStatic("", id="watch-header")  # its countdown moves every second: a repaint, not a layout
        yield DataTable(id="alerts", cursor_type="row")
        yield Static("", id="health")

    def on_mount(self) -> None:
        table = self.query_one("#alerts", DataTable)
        table.border_title = "Open alerts (a: acknowledge)"
        table.add_column("When", key="at", width=8)
        table.add_column("Ph", key="phase", width=3)
        table.add_column("Kind", key="kind", width=12)
        table.add_column("What", key="what")
        self.query_one("#health", Static).border_title = "Health"
        table.focus()

    def _header(self) -> str:
        journal = self.engine.journal
        now = self.cockpit_app.now()
        return watch_header(watch_period(journal.events(kinds=WATCH_PERIOD_KINDS)),
                            live_watcher(journal.events(kinds=WATCHER_KINDS), now), now)

    def redraw(self) -> None:
        app = self.cockpit_app
        now = app.now()
        self.query_one("#watch-header", RepaintStatic).show_text(self._header())
        table = self.query_one("#alerts", DataTable)
        alerts = list(reversed([a for a in alert_views(self.engine.journal.events(kinds=ALERT_VIEW_KINDS)) if a.open]))
        wanted = [f"{a.id}:{a.cleared_at}" for a in alerts]
        if wanted != self._shown:
            self._shown = wanted
            table.clear()
            for alert in alerts:
                what = clean(alert.message)
                if alert.cleared_at is not None:
                    what += f" (cleared {fmt.clock_time(alert.cleared_at)}: {clean(alert.clear_note)})"
                table.add_row(
                    fmt.clock_time(alert.at),
                    str(alert.phase_id or "—"),
                    Content.from_markup(fmt.styled(clean(alert.kind), "$text-muted" if alert.cleared_at else "b $error")),
                    Text(what, no_wrap=True),  # plain text: never parsed as markup
                    key=str(alert.id),
                )
        table.border_subtitle = f"{len(alerts)} open" if alerts else "none: all quiet"
        self.query_one("#health", Static).update(health_markup(app.snapshot, now))

    def tick(self) -> None:
        self.query_one("#watch-header", RepaintStatic).show_text(self._header())

    def action_ack_alert(self) -> None:
        table = self.query_one("#alerts", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            self.acknowledge(int(key))

    @work(group="ack", thread=True, exit_on_error=False)
    def acknowledge(self, event_id: int) -> None:
        """Journalled with who and when; every other TUI and `cockpit alerts` sees it."""
        self.engine.journal.append("alert_ack", data={"event_id": int(event_id)}, operator=self.cockpit_app.operator or None)
        self.post_message(JournalChanged())  # thread-safe

    def action_launch_watcher(self) -> None:
        beat = live_watcher(self.engine.journal.events(kinds=WATCHER_KINDS), self.cockpit_app.now())
        if beat is not None:
            self.notify(f"A watcher is already running: pid {beat.pid} on {clean(beat.host)}.", markup=False)
            return

        def chosen(hours: float | None) -> None:
            if hours:
                launch_watcher(self, hours)

        watch = self.cockpit_app.plan.watch
        self.app.push_screen(WatchStartScreen(self.phase_id, watch.hours, watch.extended_hours), chosen)
