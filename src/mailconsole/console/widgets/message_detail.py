"""Message detail (Enter on a queue row): every field and every delivery attempt."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mailconsole.console.context import runtime_of
from mailconsole.console.widgets.formatting import stamp, state_text
from mailconsole.delivery import queue as queue_service


def _fields(obj: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return dict(obj)
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


def _cell(value: Any) -> Text | str:
    if isinstance(value, dt.datetime):
        return stamp(value)
    if value is None or value == "":
        return "-"
    return str(value)


def render_detail(detail: Any) -> Table:
    """Fields first, then one row per attempt; unknown fields are shown, not dropped."""
    data = _fields(detail)
    attempts = data.pop("attempts", []) or []
    nested = data.pop("message", None)
    if nested is not None:
        data = {**_fields(nested), **data}
    table = Table(box=None, show_header=False, expand=True, padding=(0, 1))
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    for name, value in data.items():
        table.add_row(name.replace("_", " "), state_text(value) if name == "state" else _cell(value))
    table.add_row("", "")
    table.add_row(Text(f"attempts ({len(attempts)})", style="bold underline"), "")
    for attempt in attempts:
        fields = _fields(attempt)
        when = _cell(fields.pop("at", None))
        outcome = str(fields.pop("outcome", ""))
        rest = " ".join(f"{k}={_cell(v)}" for k, v in fields.items() if v not in (None, "", "-"))
        table.add_row(when, Text.assemble(state_text(outcome), " ", rest))
    if not attempts:
        table.add_row("", Text("no attempt yet", style="dim"))
    return table


class MessageDetailScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Back")]

    def __init__(self, message_id: int) -> None:
        super().__init__(classes="modal")
        self.message_id = message_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-box", classes="dialog") as box:
            box.border_title = f"Message {self.message_id}"
            box.border_subtitle = "escape goes back"
            yield Static("loading…", id="detail-body")

    def on_mount(self) -> None:
        self.load()

    @work(exit_on_error=False)
    async def load(self) -> None:
        body = self.query_one("#detail-body", Static)
        try:
            detail = await queue_service.message_detail(
                runtime_of(self), self.message_id)
        except Exception as exc:
            body.update(f"could not load message {self.message_id}: {exc}")
            return
        if detail is None:
            body.update(f"message {self.message_id} no longer exists")
            return
        body.update(render_detail(detail))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
