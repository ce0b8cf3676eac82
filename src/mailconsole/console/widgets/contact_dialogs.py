"""Modals the Contacts and Reviews panes share: a one-line prompt, the contact detail with its
log, and a progress dialog for long runs (import, acting on a filtered selection)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static

from mailconsole.contacts.queries import ContactDetail


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text (a corrected address, a review note, a file path)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, *, value: str = "", placeholder: str = "") -> None:
        super().__init__(classes="modal")
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, id="prompt-question")
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static("enter: ok   escape: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ContactDetailScreen(ModalScreen[None]):
    """The contact's status details (same words as the bubble's tooltip) and its log."""

    BINDINGS = [Binding("escape", "close", "Close"), Binding("q", "close", "Close", show=False)]

    def __init__(self, detail: ContactDetail) -> None:
        super().__init__(classes="modal")
        self.detail = detail

    def compose(self) -> ComposeResult:
        d = self.detail
        log = "\n".join(
            f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor}  {e.kind}: {e.detail}" for e in d.log
        ) or "no entries"
        with Vertical(classes="dialog", id="contact-detail"):
            yield Static(f"[b]{d.row.address}[/b]" + (f"  {d.row.name}" if d.row.name else ""))
            yield Static(d.bubble.tooltip, id="detail-tooltip")
            yield Static("[b]Log[/b]")
            with VerticalScroll(id="detail-log"):
                yield Static(log, markup=False)
            yield Static("escape: close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)


class ProgressScreen(ModalScreen[None]):
    """Shows a long run's progress; the owner calls ``advance`` and ``finish``."""

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, title: str) -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.done = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text)
            yield ProgressBar(id="progress", show_eta=False)
            yield Static("", id="progress-result")

    def advance(self, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def finish(self, text: str) -> None:
        self.done = True
        self.query_one("#progress-result", Static).update(text + "\n\nescape: close")

    def action_close(self, *_: Any) -> None:
        if self.done:
            self.dismiss(None)
