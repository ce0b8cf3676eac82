"""Servers: one row per sending server with its state, sends against its cap and send rate.

The table's rate column is a compressed block sparkline; the panel below shows the highlighted
server's last hour per minute with Textual's Sparkline, and its recent failures. Data comes
from ``delivery.servers.list_server_stats`` (aggregates computed by the service), re-read
every second while the pane is visible.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.widgets import DataTable, Sparkline, Static

from mailconsole.console.context import actor_of, authorize, refuse, runtime_of
from mailconsole.console.widgets.confirm import ConfirmScreen
from mailconsole.console.widgets.formatting import mini_sparkline, state_text
from mailconsole.delivery import servers as servers_service
from mailconsole.domain.roles import Permission, PermissionDenied


def _failures_text(stats: Any) -> Text:
    failures = list(getattr(stats, "recent_failures", []) or [])
    text = Text(no_wrap=False)
    if not failures:
        text.append("no recent failures", style="dim")
        return text
    for failure in failures[:5]:
        text.append("• ", style="red")
        text.append(str(failure))
        text.append("\n")
    return text


class ServersPane(Container):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause"),
        Binding("u", "resume", "Resume"),
        Binding("t", "test", "Test"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stats: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Static("loading…", id="servers-summary", classes="summary")
        table: DataTable[Any] = DataTable(id="servers-table", cursor_type="row", zebra_stripes=True)
        # Sized for 80 columns (8 columns x 2 cells padding + widths = 78); the group and the
        # full per-minute sparkline are in the detail panel below.
        table.add_column("Name", key="name", width=14)
        table.add_column("State", key="state", width=8)
        table.add_column("Hour", key="hour", width=4)
        table.add_column("Day", key="day", width=5)
        table.add_column("Cap", key="cap", width=9)
        table.add_column("Rate 1h", key="rate", width=10)
        table.add_column("Type", key="type", width=8)
        table.add_column("Fail", key="fails", width=4)
        yield table
        with Vertical(id="server-detail"):
            yield Static("", id="server-detail-title")
            yield Sparkline([0], id="server-rate")
            yield Static("", id="server-failures")

    def on_mount(self) -> None:
        self.refresh_stats()
        self.set_interval(getattr(self.app, "refresh_seconds", 1.0), self._tick)

    def focus_default(self) -> None:
        self.query_one("#servers-table", DataTable).focus()

    def _tick(self) -> None:
        if self.display and self.parent is not None and getattr(self.parent, "current", None) == self.id:
            self.refresh_stats()

    @work(exclusive=True, group="servers-refresh", exit_on_error=False)
    async def refresh_stats(self) -> None:
        stats = await servers_service.list_server_stats(runtime_of(self))
        self._show(list(stats))

    def _show(self, stats: list[Any]) -> None:
        table = self.query_one("#servers-table", DataTable)
        keep = self.selected()
        keep_name = keep.name if keep is not None else None
        self.stats = stats
        table.clear()
        for s in stats:
            failures = list(getattr(s, "recent_failures", []) or [])
            table.add_row(
                s.name, state_text(s.state), str(s.sent_hour), str(s.sent_day), s.cap_label or "-",
                Text(mini_sparkline(list(s.rate_per_minute), 10), style="cyan"),
                s.type, Text(str(len(failures)), style="red" if failures else "dim"),
                key=s.name,
            )
        healthy = sum(1 for s in stats if s.state == "healthy")
        summary = Text(no_wrap=True, overflow="ellipsis")
        summary.append(f"{len(stats)} servers  ", style="bold")
        summary.append(f"{healthy} healthy  ", style="green")
        summary.append(f"{sum(s.sent_hour for s in stats)} sent this hour  ", style="dim")
        summary.append(f"{sum(s.sent_day for s in stats)} today", style="dim")
        self.query_one("#servers-summary", Static).update(summary)
        if stats:
            names = [s.name for s in stats]
            table.move_cursor(row=names.index(keep_name) if keep_name in names else 0)
        self._show_detail()

    def selected(self) -> Any:
        table = self.query_one("#servers-table", DataTable)
        if not self.stats or not 0 <= table.cursor_row < len(self.stats):
            return None
        return self.stats[table.cursor_row]

    @on(DataTable.RowHighlighted, "#servers-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        s = self.selected()
        title = self.query_one("#server-detail-title", Static)
        spark = self.query_one("#server-rate", Sparkline)
        if s is None:
            title.update(Text("no sending server yet: add one in Config > Servers (key 5)", style="dim"))
            spark.data = [0]
            self.query_one("#server-failures", Static).update("")
            return
        rate = list(s.rate_per_minute)
        reason = getattr(s, "state_reason", "") or ""
        header = Text.assemble((s.name, "bold"), "  ", state_text(s.state),
                               f"  {reason}" if reason else "", f"  {s.type} · group {s.group or '-'}\n",
                               (f"sent per minute, last hour (peak {max(rate, default=0)})", "dim"))
        title.update(header)
        spark.data = rate or [0]
        self.query_one("#server-failures", Static).update(_failures_text(s))

    # --- actions ------------------------------------------------------------------------

    def _chosen(self, permission: Permission) -> Any:
        if not authorize(self, permission):
            return None
        server = self.selected()
        if server is None:
            self.app.notify("No server selected.", severity="warning", timeout=3)
        return server

    def action_pause(self) -> None:
        server = self._chosen(Permission.QUEUE_ACTION)
        if server is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._call("pause_server", server.name, f"Server {server.name} paused.")

        self.app.push_screen(ConfirmScreen(
            f"Pause {server.name}? It stops sending; its queue waits or fails over to its group.",
            yes_label="Pause"), answered)

    def action_resume(self) -> None:
        server = self._chosen(Permission.QUEUE_ACTION)
        if server is not None:
            self._call("resume_server", server.name, f"Server {server.name} resumed.")

    def action_test(self) -> None:
        server = self._chosen(Permission.VIEW)
        if server is not None:
            self.app.notify(f"Testing {server.name}…", timeout=2)
            self._call("test_server", server.name, None)

    @work(group="servers-action", exit_on_error=False)
    async def _call(self, func_name: str, name: str, done: str | None) -> None:
        app: Any = self.app
        func: Callable[..., Awaitable[Any]] = getattr(servers_service, func_name)
        server_id = next(s.id for s in self.stats if s.name == name)
        try:
            # The service checks the permission, acts and writes the audit row.
            result = await func(app.runtime, server_id, actor=actor_of(self))
        except PermissionDenied as exc:
            refuse(self, exc)
            return
        except Exception as exc:
            app.notify(str(exc), title=f"{func_name.replace('_', ' ')} failed", severity="error",
                       timeout=6)
            return
        if done is None:  # test connection: the transport's own words
            ok = bool(getattr(result, "ok", False))
            app.notify(str(getattr(result, "detail", result)), title=f"{name}: {'OK' if ok else 'failed'}",
                       severity="information" if ok else "error", timeout=8)
        else:
            app.notify(done, timeout=3)
        self.refresh_stats()
