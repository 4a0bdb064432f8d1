"""A one-line question (an override reason, a note). An empty answer counts as "no":
an override without a reason would leave the audit trail silent."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from cockpit.tui import format as fmt


class PromptScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, explanation: str = "", placeholder: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.explanation = explanation
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog prompt"):
            yield Static(fmt.styled(self.title_text, "b"), id="dialog-title")
            if self.explanation:
                yield Static(self.explanation, id="dialog-text")
            yield Input(placeholder=self.placeholder, id="prompt-input")
            yield Static("enter: OK · escape: cancel", id="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            # said in the dialog, not in a toast: toasts are hidden on dialogs
            self.query_one("#dialog-hint", Static).update("An answer is required (escape cancels).")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
