"""Choosing the watch length before starting the watcher: the plan's 24 h checklist item
or the 48 h its critical notes ask for. The watcher runs as its own background process,
so closing this terminal does not end the watch."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from cockpit.tui import format as fmt


class WatchStartScreen(ModalScreen[float | None]):
    """Dismisses with the chosen hours, or None to only look at the watch screen."""

    BINDINGS = [
        Binding("1", "choose(1)", "Standard"),
        Binding("2", "choose(2)", "Extended"),
        Binding("escape", "cancel", "Just look"),
    ]

    def __init__(self, phase_id: int | None, hours: float, extended_hours: float) -> None:
        super().__init__(classes="dialog-screen")
        self.phase_id = phase_id
        self.hours = hours
        self.extended_hours = extended_hours

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog prompt"):
            yield Static(fmt.styled("Start the watcher (every rolled-back phase)", "b"), id="dialog-title")
            yield Static(
                f"[b]1[/b]  {self.hours:g} hours (checklist: monitor for {self.hours:g} hours)\n"
                f"[b]2[/b]  {self.extended_hours:g} hours (critical notes: monitor {self.extended_hours:g} hours)\n"
                "[b]esc[/b] do not start, just look\n"
                + fmt.styled("It runs in the background (cockpit watch --detach): closing this window does not stop it.", "$text-muted"),
                id="dialog-text",
            )

    def action_choose(self, which: int) -> None:
        self.dismiss(self.hours if which == 1 else self.extended_hours)

    def action_cancel(self) -> None:
        self.dismiss(None)
