"""The watch: 24-48 h after a rollback, everything that could quietly undo it or hurt.

Drift alerts (a flag back on, a cron line back, a dropped table back or refilling) are
raised by the app on each refresh and stay here until acknowledged, across restarts,
because they live in the journal. Around them: error-log match rates, activity, the
connection and the host, including the cockpit's own footprint (it must never be the
thing loading the box).
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Static

from cockpit.text import plain
from cockpit.tui import format as fmt
from cockpit.tui.evidence import spike
from cockpit.tui.screens.base import CockpitScreen
from cockpit.tui.screens.watch_start import WatchStartScreen
from cockpit.tui.widgets.sparkline import sparkline


def start_or_open_watch(app: Any, phase_id: int | None) -> None:
    """`w`: start a watch if none runs (asking 24 h or 48 h), then show it."""
    if app.read_only or app.engine.watch() is not None:
        app.open_watch(phase_id)
        return

    def chosen(hours: float | None) -> None:
        if hours:
            app.engine.start_watch(phase_id, hours)
            app.journal_changed()
            app.notify(f"Watch started: {hours:g} h")
        app.open_watch(phase_id)

    app.push_screen(WatchStartScreen(phase_id, app.plan.watch.hours, app.plan.watch.extended_hours), chosen)


def watch_header(watch: Any, now: float) -> str:
    if watch is None:
        return fmt.styled("No watch running. Press s to start one after a rollback.", "b $warning")
    left = watch.ends_at - now
    target = f"phase {watch.phase_id}" if watch.phase_id is not None else "all phases"
    if left <= 0:
        return fmt.styled(f"Watch on {target} finished at {fmt.stamp(watch.ends_at)} ({watch.hours:g} h)", "b $success")
    done = 1 - left / (watch.hours * 3600) if watch.hours else 0
    bar_width = 16
    filled = int(done * bar_width)
    bar = "█" * filled + "░" * (bar_width - filled)
    return (
        f"[b]Watch on {fmt.styled(target, '')}[/b]  {fmt.styled(fmt.countdown(left), 'b $accent')} left  "
        f"{fmt.styled(bar, '$accent')}  {fmt.styled(f'{watch.hours:g} h from {fmt.clock_time(watch.started_at)[:5]}', '$text-muted')}"
    )


def health_markup(snap: Any, now: float) -> str:
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
        lines.append(f"[b]db[/b]    {fmt.styled('connected', '$success')} {fmt.styled(conn.server, '$text-muted')} · {conn.queries_last_refresh} queries/refresh · refresh took {snap.refresh_seconds:.2f}s")
    else:
        since = f" for {fmt.duration(now - conn.lost_since)}" if conn.lost_since else ""
        retry = f", retry {fmt.clock_time(conn.next_retry_at)}" if conn.next_retry_at else ""
        lines.append(f"[b]db[/b]    {fmt.styled(conn.state.upper() + since, 'b $error')} {fmt.styled((conn.error or '') + retry, '$text-muted')}")
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
        Binding("a", "acknowledge", "Acknowledge"),
        Binding("s", "start_watch", "Start watch"),
    ]

    def __init__(self, phase_id: int | None = None) -> None:
        super().__init__(id="watch-screen")
        self.phase_id = phase_id

    def compose_body(self) -> ComposeResult:
        yield Static("", id="watch-header")
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

    def redraw(self) -> None:
        app = self.app
        now = app.now()
        self.query_one("#watch-header", Static).update(watch_header(app.engine.watch(), now))
        table = self.query_one("#alerts", DataTable)
        alerts = list(reversed(app.engine.open_alerts()))
        wanted = [str(a.event_id) for a in alerts]
        current = [str(k.value) for k in table.rows]
        if wanted != current:
            table.clear()
            for alert in alerts:
                table.add_row(
                    fmt.clock_time(alert.at),
                    str(alert.phase_id or "—"),
                    Content.from_markup(fmt.styled(alert.kind, "b $error")),
                    plain(alert.message),  # str cells are parsed as markup: `[/]` crashed the screen
                    key=str(alert.event_id),
                )
        if not alerts:
            table.border_subtitle = "none: all quiet"
        else:
            table.border_subtitle = f"{len(alerts)} open"
        self.query_one("#health", Static).update(health_markup(app.snapshot, now))

    def tick(self) -> None:
        self.query_one("#watch-header", Static).update(watch_header(self.app.engine.watch(), self.app.now()))

    def action_acknowledge(self) -> None:
        table = self.query_one("#alerts", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            self.acknowledge(int(key))

    @work(group="ack", thread=True, exit_on_error=False)
    def acknowledge(self, event_id: int) -> None:
        self.app.engine.acknowledge_alert(event_id)
        self.app.call_from_thread(self.app.journal_changed)

    def action_start_watch(self) -> None:
        if self.app.engine.watch() is not None:
            self.notify("A watch is already running.")
            return
        start_or_open_watch(self.app, self.phase_id)
