"""The modal that stands between the operator and anything that changes production.

It always shows exactly what would run (the dry-run) first. A destructive step asks for a
typed token (the phase id, a table name, "EMERGENCY") instead of a y/n, because muscle
memory presses "y" but does not type "10" by accident.

The dialog does not judge the token: it returns what was typed (`Confirmed.typed`) and
the engine compares it (cockpit.engine.confirm), so the check that guards the CLI guards
the TUI too. When the engine refuses, the caller opens the dialog again with the engine's
reason (`refusal`), said inside the dialog next to the box.

Nothing may cover it: toasts are hidden on dialog screens (cockpit.tcss) and a mistyped
token is said inside the dialog, next to the box. A dialog never offers a plain "Run"
for something its guards say would be refused: it says "Run anyway — will be refused",
because trying it still journals the refusal (a drill practises exactly that).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from cockpit.tui import format as fmt


@dataclass(frozen=True)
class Confirmed:
    """The operator said go: `typed` is what they typed (None when a plain yes was asked)."""

    typed: str | None = None


class ConfirmScreen(ModalScreen[Confirmed | None]):
    """Dismisses with `Confirmed` on an explicit yes or a typed answer, None on cancel."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "yes", "Yes", show=False),
        Binding("n", "no", "No", show=False),
    ]

    def __init__(self, title: str, body: str, token: str | None = None, warning: str = "",
                 refused: bool | None = None, refusal: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.body = body
        self.token = token
        self.warning = warning
        # callers say whether the guards refuse; older callers only pass the warning text
        self.refused = refused if refused is not None else "refused" in warning.lower()
        self.refusal = refusal  # the engine's reason the previous answer was refused

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(fmt.styled(self.title_text, "b"), id="dialog-title")
            with VerticalScroll(id="dialog-body"):
                yield Static(self.body, id="dialog-text", markup=True)
            if self.warning:
                yield Static(self.warning, id="dialog-warning")
            if self.token is not None:
                verb = "try it anyway (it will be refused, and the refusal journalled)" if self.refused else "run"
                yield Static(f"Type [b]{fmt.styled(self.token, '')}[/b] and press enter to {verb}; escape cancels.", id="dialog-hint")
                yield Input(placeholder=f"type {self.token}", id="dialog-token")
                yield Static(self._mistyped(), id="dialog-mistyped", markup=False)
            else:
                with Horizontal(id="dialog-buttons"):
                    label = "Run anyway — will be refused (y)" if self.refused else "Run (y)"
                    yield Button(label, id="yes", variant="error" if self.refused else "warning")
                    yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        if self.token is not None:
            self.query_one(Input).focus()
        else:
            self.query_one("#no", Button).focus()

    def _mistyped(self) -> str:
        if not self.refusal:
            return ""
        return f"That is not {self.token!r}; nothing was run. The engine says: {self.refusal}"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            return  # an empty enter is a slip of the finger, not an answer
        self.dismiss(Confirmed(event.value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(Confirmed() if event.button.id == "yes" else None)

    def action_yes(self) -> None:
        if self.token is None:
            self.dismiss(Confirmed())

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_no(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # while typing a token, "y"/"n" are letters, not answers
        if action in ("yes", "no") and self.token is not None:
            return False
        return True
