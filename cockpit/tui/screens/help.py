"""The `?` screen: every key on one 80×24 page, because nobody reads docs during an incident."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]Everywhere[/b]   [b]?[/b] help  [b]![/b]/[b]ctrl+e[/b] EMERGENCY  [b]j[/b] journal  [b]r[/b] refresh
             [b]ctrl+p[/b] command palette  [b]esc[/b] back  [b]q[/b] quit
[b]Board[/b]        [b]↑↓[/b] choose phase  [b]enter[/b] open  [b]c[/b] checklist
             [b]w[/b] watch  [b]l[/b] rollback log  [b]e[/b] exact counts  [b]D[/b] drill
[b]Phase[/b]        [b]↑↓[/b] step (its dry-run shows below)  [b]x[/b]/[b]enter[/b] run
             [b]o[/b] override (asks a reason)  [b]n[/b] note  [b]c[/b] [b]l[/b] [b]w[/b]
[b]Checklist[/b]    [b]space[/b] tick/untick  [b]s[/b] run the smoke checks  [b]b[/b] full dump
[b]Watch[/b]        [b]a[/b] acknowledge alert  [b]s[/b] start a detached watcher
[b]Emergency[/b]    [b]x[/b] every flag off (type {emergency})
[b]Log[/b]          type reason, [b]enter[/b], resolution, [b]ctrl+s[/b] append
[b]Journal[/b]      [b]7 8 9 0[/b] one phase  [b]a[/b] all

Destructive steps ask you to type the phase id or table name.
Greyed keys are disabled: read-only (another operator holds
the lock, or --read-only). Values show their age; struck-through
values are stale (source unreachable).
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static("[b]Rollback cockpit · keys[/b]", id="dialog-title")
            from cockpit.engine.confirm import EMERGENCY_TOKEN  # the word the engine checks

            yield Static(HELP.format(emergency=EMERGENCY_TOKEN), id="help-text")
