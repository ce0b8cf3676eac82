"""Contacts pane: search, a keyset-paged window of contacts with status bubbles, and the
support agent's actions (check again, request safelist, edit address, import).

Only the visible window is ever read: each move past the window's edge asks the contact
queries for the next ``page_size`` rows after (or before) the current edge address, so a
million contacts scroll like a hundred. All decisions are the contact services'.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input, Static

from mailconsole.console.context import actor_of, authorize, refuse, runtime_of
from mailconsole.console.widgets.contact_dialogs import ContactDetailScreen, ProgressScreen, PromptScreen
from mailconsole.console.widgets.status_bubble import StatusBubble
from mailconsole.contacts.accounts import default_account_id
from mailconsole.contacts.errors import ContactError
from mailconsole.contacts.importer import import_csv
from mailconsole.contacts.queries import ContactFilter, ContactRow, contact_detail, window
from mailconsole.contacts.safelist import request_safelist
from mailconsole.contacts.verification import check_again, check_matching, check_refusal, edit_address
from mailconsole.domain.roles import Permission, PermissionDenied

PAGE_SIZE = 12


class ContactRowView(Horizontal):
    """One visible row: bubble, address, reason. Reused as the window moves."""

    DEFAULT_CSS = """
    ContactRowView { height: 1; }
    ContactRowView > .address { width: 36; }
    ContactRowView > .reason { width: 1fr; color: $text-muted; }
    ContactRowView.-cursor { background: $accent 40%; }
    """

    def __init__(self, index: int) -> None:
        super().__init__(id=f"row-{index}")
        self.row: ContactRow | None = None

    def compose(self) -> ComposeResult:
        yield StatusBubble()
        yield Static("", classes="address", markup=False)
        yield Static("", classes="reason", markup=False)

    def show(self, row: ContactRow | None) -> None:
        self.row = row
        self.query_one(StatusBubble).show(row.bubble() if row else None)
        self.query_one(".address", Static).update(row.address if row else "")
        self.query_one(".reason", Static).update(row.status_reason if row else "")


class ContactsPane(Vertical):
    """Keys: / filter, up/down, pageup/pagedown, i details, enter contact log, c check again,
    s request safelist, e edit address, m import (admin), C check the filtered selection (admin)."""

    can_focus = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home", "first_page", "First", show=False),
        Binding("slash", "focus_filter", "Filter", key_display="/"),
        # Short labels: the whole row must fit the footer at 80 columns; ? has the long list.
        Binding("i", "info", "Info"),
        Binding("enter", "open", "Log"),
        Binding("c", "check_again", "Check"),
        Binding("s", "request_safelist", "Safelist"),
        Binding("e", "edit", "Edit"),
        Binding("m", "import", "Import"),
        Binding("C", "bulk_check", "Check all", key_display="C"),
    ]

    DEFAULT_CSS = """
    ContactsPane #contact-rows { height: auto; }
    ContactsPane #contact-info { height: auto; max-height: 8; padding: 0 1; background: $boost; }
    /* no border: address + six tooltip lines fill exactly the 7 rows left at 80x24 */
    ContactsPane #contact-info.hidden { display: none; }
    """

    cursor: reactive[int] = reactive(0)

    def __init__(self, page_size: int = PAGE_SIZE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size
        self.rows: list[ContactRow] = []
        self.flt = ContactFilter()
        self.account_id: int | None = None
        self.loads = 0  # completed window loads (tests and the benchmark wait on it)
        self.info_visible = False

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: address prefix, status:blocklisted, domain:example.com",
                    id="filter", classes="visible")
        yield Static("", id="contacts-summary", classes="summary")
        with Vertical(id="contact-rows"):
            for i in range(self.page_size):
                yield ContactRowView(i)
        yield Static("", id="contact-info", classes="hidden", markup=False)

    def on_mount(self) -> None:
        self.load()

    def focus_default(self) -> None:
        self.focus()

    # --- data -------------------------------------------------------------------------------

    async def _account(self) -> int:
        """The account this pane shows (the default one), looked up once."""
        if self.account_id is None:
            self.account_id = await default_account_id(runtime_of(self))
        return self.account_id

    @work(exclusive=True, group="contacts-window", exit_on_error=False)
    async def load(self, after: str | None = None, before: str | None = None, cursor: int = 0,
                   start: str | None = None) -> None:
        rows = await window(runtime_of(self), await self._account(), self.flt, after=after, before=before,
                            start=start, limit=self.page_size)
        if (after is not None or before is not None) and not rows:
            self.loads += 1
            return  # already at the end: keep the window
        self.rows = rows
        for i, view in enumerate(self.query(ContactRowView)):
            view.show(rows[i] if i < len(rows) else None)
        self.cursor = max(0, min(cursor, len(rows) - 1))
        self._refresh_cursor()
        described = " ".join(
            part for part in (
                f"status:{self.flt.status}" if self.flt.status else "",
                f"domain:{self.flt.domain}" if self.flt.domain else "",
                f"prefix:{self.flt.prefix}" if self.flt.prefix else "",
            ) if part
        )
        where = f" from {rows[0].address}" if rows else ""
        self.query_one("#contacts-summary", Static).update(
            f"{len(rows)} shown{where}" + (f"  filter: {described}" if described else "")
            + ("" if rows else "  no contacts match")
        )
        if self.info_visible:
            self._show_info()
        self.loads += 1

    def reload(self) -> None:
        """Reload the window from its first address (after an action changed a contact)."""
        self.load(start=self.rows[0].address if self.rows else None, cursor=self.cursor)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.flt = ContactFilter.parse(event.value)
        self.load()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.focus()

    # --- cursor -----------------------------------------------------------------------------

    def watch_cursor(self, _old: int, _new: int) -> None:
        self._refresh_cursor()
        if self.info_visible:
            self._show_info()

    def _refresh_cursor(self) -> None:
        for i, view in enumerate(self.query(ContactRowView)):
            view.set_class(i == self.cursor and view.row is not None, "-cursor")

    @property
    def current(self) -> ContactRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def action_cursor(self, delta: int) -> None:
        target = self.cursor + delta
        if target >= len(self.rows):
            if self.rows and len(self.rows) == self.page_size:
                self.load(after=self.rows[0].address, cursor=self.page_size - 1)  # scroll by one
            return
        if target < 0:
            if self.rows:
                self.load(before=self.rows[-1].address, cursor=0)
            return
        self.cursor = target

    def action_page_down(self) -> None:
        if self.rows:
            self.load(after=self.rows[-1].address, cursor=0)

    def action_page_up(self) -> None:
        if self.rows:
            self.load(before=self.rows[0].address, cursor=0)

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_first_page(self) -> None:
        self.load()

    def action_info(self) -> None:
        """The bubble's tooltip for the focused row, without a mouse (press again to hide)."""
        self.info_visible = not self.info_visible
        self.query_one("#contact-info").set_class(not self.info_visible, "hidden")
        if self.info_visible:
            self._show_info()

    def _show_info(self) -> None:
        row = self.current
        text = f"{row.address}\n{row.bubble().tooltip}" if row else "no contact selected"
        self.query_one("#contact-info", Static).update(text)

    # --- actions ----------------------------------------------------------------------------


    def action_open(self) -> None:
        if self.current is not None:
            self._open(self.current.address)

    @work(group="contacts-action", exit_on_error=False)
    async def _open(self, address: str) -> None:
        detail = await contact_detail(runtime_of(self), await self._account(), address)
        self.app.push_screen(ContactDetailScreen(detail))

    def action_check_again(self) -> None:
        row = self.current
        if row is None or not authorize(self, Permission.CONTACT_ACTION):
            return
        refusal = check_refusal(row.status)
        if refusal:
            self.app.notify(refusal, title="Check again", severity="warning", timeout=6)
            return
        self._check(row.address)

    @work(group="contacts-action", exit_on_error=False)
    async def _check(self, address: str) -> None:
        self.app.notify(f"Checking {address}…", timeout=2)
        try:
            report = await check_again(runtime_of(self), account_id=await self._account(),
                                       address=address, actor=actor_of(self))
        except PermissionDenied as exc:
            refuse(self, exc)
            return
        except ContactError as exc:
            self.app.notify(str(exc), title="Check again", severity="error", timeout=6)
            return
        if report.outcome == "fail":
            self.app.notify(f"Could not be processed: {report.detail}", title="Check again: fail",
                            severity="error", timeout=8)
        elif report.passed:
            self.app.notify(f"Passed: {report.detail}. {address} is {report.status} again.",
                            title="Check again: sent", timeout=6)
        else:
            self.app.notify(f"Failed: {report.detail}. Press s to request a safelist.",
                            title="Check again: sent", severity="warning", timeout=8)
        self.reload()

    def action_request_safelist(self) -> None:
        row = self.current
        if row is None or not authorize(self, Permission.CONTACT_ACTION):
            return
        self._safelist(row.address)

    @work(group="contacts-action", exit_on_error=False)
    async def _safelist(self, address: str) -> None:
        try:
            outcome = await request_safelist(runtime_of(self), account_id=await self._account(),
                                             address=address, actor=actor_of(self))
        except PermissionDenied as exc:
            refuse(self, exc)
            return
        except ContactError as exc:
            self.app.notify(str(exc), title="Request safelist", severity="warning", timeout=8)
            return
        self.app.notify(f"Request #{outcome.request_id}: {outcome.message}", title="Request safelist", timeout=6)
        self.reload()

    def action_edit(self) -> None:
        row = self.current
        if row is None or not authorize(self, Permission.CONTACT_ACTION):
            return

        def edited(value: str | None) -> None:
            if value and value.strip() and value.strip() != row.address:
                self._edit(row.address, value.strip())

        self.app.push_screen(PromptScreen(f"New address for {row.address}:", value=row.address), edited)

    @work(group="contacts-action", exit_on_error=False)
    async def _edit(self, address: str, new_address: str) -> None:
        try:
            normal = await edit_address(runtime_of(self), account_id=await self._account(),
                                        address=address, new_address=new_address, actor=actor_of(self))
        except PermissionDenied as exc:
            refuse(self, exc)
            return
        except ContactError as exc:
            self.app.notify(str(exc), title="Edit address", severity="error", timeout=8)
            return
        self.app.notify(f"Address changed to {normal}; press c to check it again.", timeout=6)
        self.query_one("#filter", Input).value = normal  # jump to the edited contact

    def action_import(self) -> None:
        if not authorize(self, Permission.CONTACT_BULK):
            return

        def chosen(path: str | None) -> None:
            if path and path.strip():
                screen = ProgressScreen(f"Importing {path.strip()}")
                self.app.push_screen(screen)
                self._import(path.strip(), screen)

        self.app.push_screen(PromptScreen("Import contacts from CSV file:", placeholder="/path/to/contacts.csv"),
                             chosen)

    @work(group="contacts-bulk", exit_on_error=False)
    async def _import(self, path: str, screen: ProgressScreen) -> None:
        try:
            report = await import_csv(runtime_of(self), path, account_id=await self._account(),
                                      actor=actor_of(self), progress=screen.advance)
        except PermissionDenied as exc:
            screen.finish(str(exc))
            return
        except ContactError as exc:
            screen.finish(f"Import failed: {exc}")
            return
        lines = [f"{report.inserted} imported, {report.already_present} already present, "
                 f"{len(report.rejected)} rejected"]
        lines += [f"line {r.line}: {r.reason}" for r in report.rejected[:8]]
        if len(report.rejected) > 8:
            lines.append(f"… and {len(report.rejected) - 8} more (use `mailconsole contacts import` for all)")
        screen.finish("\n".join(lines))
        self.load()

    def action_bulk_check(self) -> None:
        """Admins: Check again every checkable contact of the current filter (asks first)."""
        if not authorize(self, Permission.CONTACT_BULK):
            return
        from mailconsole.console.widgets.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                screen = ProgressScreen("Check again on the filtered contacts")
                self.app.push_screen(screen)
                self._bulk_check(self.flt, screen)

        self.app.push_screen(ConfirmScreen("Check again every blocked contact matching the current filter?",
                                           yes_label="Check all"), answered)

    @work(group="contacts-bulk", exit_on_error=False)
    async def _bulk_check(self, flt: ContactFilter, screen: ProgressScreen) -> None:
        """The contacts service does the work (the CLI's `contacts check --all` is the same call)."""
        try:
            report = await check_matching(runtime_of(self), account_id=await self._account(), flt=flt,
                                          actor=actor_of(self), progress=screen.advance)
        except PermissionDenied as exc:
            screen.finish(str(exc))
            return
        screen.finish(report.summary())
        self.reload()
