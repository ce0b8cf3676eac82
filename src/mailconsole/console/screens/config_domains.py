"""Config > Domains: sending domains, their SPF/DKIM/DMARC verdicts and the records to publish.

Everything comes from ``senders.domains``; the pane shows the stored verdicts and re-checks on
``r``. An unauthenticated domain shows the warning in red above everything else.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Label, Static

from mailconsole.console.context import actor_of, authorize, runtime_of
from mailconsole.domain.roles import Permission, PermissionDenied
from mailconsole.senders.domains import (
    DomainError,
    DomainView,
    add_domain,
    check_domain,
    dns_records,
    list_domains,
)
from mailconsole.senders.resolver import ResolverConfigError


def _colour(status: str) -> str:
    return {"pass": "green", "fail": "red"}.get(status, "yellow")


def _verdict(status: str) -> Text:
    return Text(status, style=_colour(status))


class DomainsPane(Vertical):
    """Domains table, the selected domain's verdicts and records, an add box."""

    DEFAULT_CSS = """
    DomainsPane { padding: 0 1; }
    DomainsPane #domains-warning { background: $error 40%; color: $text; text-style: bold; padding: 0 1; height: auto; }
    DomainsPane #domains-warning.hidden { display: none; }
    DomainsPane #domains-table { height: auto; max-height: 8; }
    DomainsPane #domain-detail { height: 1fr; }
    DomainsPane .domain-add { height: auto; }
    DomainsPane .domain-add Label { width: 18; padding: 0 1 0 0; }
    DomainsPane .domain-add Input { width: 1fr; }
    DomainsPane #domain-error { color: $error; height: auto; padding: 0 0 0 18; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add domain"),
        Binding("r", "recheck", "Re-check DNS"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.domains: list[DomainView] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="domains-warning", classes="hidden")
        table: DataTable[Any] = DataTable(id="domains-table", cursor_type="row")
        table.add_columns("Domain", "Selector", "SPF", "DKIM", "DMARC", "Checked")
        yield table
        with VerticalScroll(id="domain-detail"):
            yield Static("No sending domains yet: press a to add one.", id="domain-text")
        with Horizontal(classes="domain-add"):
            yield Label("Add domain", classes="domain-add-label")
            yield Input(placeholder="yourcompany.com [selector], then enter", id="domain-add", compact=True)
        yield Static("", id="domain-error")

    def on_mount(self) -> None:
        self.reload()



    def focus_default(self) -> None:
        self.query_one(DataTable).focus()

    # --- data --------------------------------------------------------------------------

    @work(exclusive=True, group="domains-load", exit_on_error=False)
    async def reload(self, select: str | None = None) -> None:
        self.domains = await list_domains(runtime_of(self))
        table = self.query_one(DataTable)
        table.clear()
        for d in self.domains:
            checked = d.checked_at.strftime("%Y-%m-%d %H:%M") if d.checked_at else "never"
            table.add_row(
                d.domain,
                d.selector,
                _verdict(d.spf[0]),
                _verdict(d.dkim[0]),
                _verdict(d.dmarc[0]),
                checked,
                key=d.domain,
            )
        if self.domains:
            names = [d.domain for d in self.domains]
            table.move_cursor(row=names.index(select) if select in names else 0)
            await self._show_detail(self.domains[table.cursor_row])
        else:
            self.query_one("#domains-warning", Static).set_class(True, "hidden")

    def _selected(self) -> DomainView | None:
        table = self.query_one(DataTable)
        if not self.domains or table.cursor_row >= len(self.domains):
            return None
        return self.domains[table.cursor_row]

    async def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        view = self._selected()
        if view is not None:
            await self._show_detail(view)

    async def _show_detail(self, view: DomainView) -> None:
        warning = self.query_one("#domains-warning", Static)
        warning.update(f"⚠ {view.warning}" if view.warning else "")
        warning.set_class(not view.warning, "hidden")
        try:
            records = await dns_records(runtime_of(self), view.domain)
        except DomainError:
            records = []
        text = Text()
        text.append(view.domain, style="bold").append(f"  DKIM selector {view.selector}\n")
        for name, (status, reason) in (("SPF", view.spf), ("DKIM", view.dkim), ("DMARC", view.dmarc)):
            text.append(f"  {name:6}").append(f"{status:8}", style=_colour(status)).append(f"{reason}\n")
        text.append("\nRecords to publish", style="bold").append(" (TXT):\n")
        for r in records:
            text.append(f"  {r.purpose:6}{r.name}\n")
            text.append(f"        {r.value}\n")
        self.query_one("#domain-text", Static).update(text)

    # --- actions -----------------------------------------------------------------------

    def action_add(self) -> None:
        if not authorize(self, Permission.CONFIG):
            return
        self.query_one("#domain-add", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "domain-add":
            self.query_one("#domain-error", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "domain-add":
            return
        if not authorize(self, Permission.CONFIG):
            return
        parts = event.value.split()
        if not parts:
            self.query_one("#domain-error", Static).update("type a domain name, e.g. yourcompany.com")
            return
        self._add(parts[0], parts[1] if len(parts) > 1 else None)

    @work(exclusive=True, group="domains-add", exit_on_error=False)
    async def _add(self, domain: str, selector: str | None) -> None:
        error = self.query_one("#domain-error", Static)
        error.update(f"generating a DKIM key for {domain} …")
        try:
            view = await add_domain(runtime_of(self), domain, selector, actor=actor_of(self))
        except (DomainError, PermissionDenied) as exc:
            error.update(str(exc))
            return
        error.update("")
        self.query_one("#domain-add", Input).value = ""
        self.app.notify(f"Added {view.domain}: publish the records shown, then press r to check")
        self.reload(view.domain)
        self.query_one(DataTable).focus()

    def action_recheck(self) -> None:
        view = self._selected()
        if view is None:
            self.app.notify("no sending domain to check", severity="warning")
            return
        self.app.notify(f"checking DNS for {view.domain} …", timeout=2)
        self._recheck(view.domain)

    @work(exclusive=True, group="domains-check", exit_on_error=False)
    async def _recheck(self, domain: str) -> None:
        try:
            result = await check_domain(runtime_of(self), domain)
        except (DomainError, ResolverConfigError) as exc:
            self.app.notify(str(exc), severity="error")
            return
        summary = ", ".join(f"{v.check.upper()} {v.status}" for v in result.verdicts)
        self.app.notify(f"{domain}: {summary}")
        self.reload(domain)
