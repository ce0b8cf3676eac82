"""Config > API keys: list keys, create one (its secret shown once, here), revoke with confirmation.

Everything goes through ``intake.keys``; creating and revoking need the admin role
(``Permission.CONFIG``) and are written to the audit log by the service in the same transaction.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Static

from mailconsole.console.context import actor_of, authorize, refuse, runtime_of
from mailconsole.console.widgets.confirm import ConfirmScreen
from mailconsole.contacts.accounts import default_account_id
from mailconsole.domain.policy import STREAMS
from mailconsole.domain.roles import Permission, PermissionDenied
from mailconsole.intake import keys as keys_service


def parse_create_input(value: str) -> tuple[str, list[str]]:
    """``name [stream ...]``: trailing words that are stream names restrict the key."""
    words = value.split()
    streams: list[str] = []
    while words and words[-1].lower() in STREAMS:
        streams.insert(0, words.pop().lower())
    return " ".join(words), streams or list(STREAMS)


class ApiKeysPane(Vertical):
    """The keys table, the one-time display of a new key, and the create box."""

    DEFAULT_CSS = """
    ApiKeysPane { padding: 0 1; }
    ApiKeysPane #keys-table { height: 1fr; }
    ApiKeysPane #key-created { height: auto; border: round $success; padding: 0 1; }
    ApiKeysPane #key-created.hidden { display: none; }
    ApiKeysPane .key-add { height: auto; }
    ApiKeysPane .key-add Label { width: 12; padding: 0 1 0 0; }
    ApiKeysPane .key-add Input { width: 1fr; }
    ApiKeysPane #key-error { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "create", "Create key"),
        Binding("x", "revoke", "Revoke key"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys: list[keys_service.KeyInfo] = []

    def compose(self) -> ComposeResult:
        table: DataTable[Any] = DataTable(id="keys-table", cursor_type="row")
        table.add_columns("ID", "Prefix", "Name", "Streams", "Scopes", "State", "Last used")
        yield table
        yield Static("", id="key-created", classes="hidden")
        with Horizontal(classes="key-add"):
            yield Label("New key")
            yield Input(placeholder="name [transactional|broadcast], then enter", id="key-name", compact=True)
        yield Static("", id="key-error")

    def on_mount(self) -> None:
        self.reload()



    def focus_default(self) -> None:
        self.query_one(DataTable).focus()

    @work(exclusive=True, group="keys-load", exit_on_error=False)
    async def reload(self, select_id: int | None = None) -> None:
        self.keys = await keys_service.list_keys(runtime_of(self))
        table = self.query_one(DataTable)
        table.clear()
        for k in self.keys:
            state = Text("revoked", style="red") if k.revoked else Text("active", style="green")
            table.add_row(
                str(k.id),
                k.prefix,
                k.name,
                ",".join(k.allowed_streams),
                ",".join(k.scopes) or "-",
                state,
                (k.last_used_at or "never")[:16].replace("T", " "),
                key=str(k.id),
            )
        if self.keys:
            ids = [k.id for k in self.keys]
            table.move_cursor(row=ids.index(select_id) if select_id in ids else 0)

    def _selected(self) -> keys_service.KeyInfo | None:
        table = self.query_one(DataTable)
        if not self.keys or table.cursor_row >= len(self.keys):
            return None
        return self.keys[table.cursor_row]

    # --- create ------------------------------------------------------------------------

    def action_create(self) -> None:
        if authorize(self, Permission.CONFIG):
            self.query_one("#key-name", Input).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "key-name":
            return
        event.stop()
        if not authorize(self, Permission.CONFIG):
            return
        name, streams = parse_create_input(event.value)
        self._create(name, streams)

    @work(exclusive=True, group="keys-create", exit_on_error=False)
    async def _create(self, name: str, streams: list[str]) -> None:
        error = self.query_one("#key-error", Static)
        try:
            account_id = await default_account_id(runtime_of(self))
            row, plaintext = await keys_service.create_key(
                runtime_of(self), account_id=account_id, name=name, allowed_streams=streams,
                actor=actor_of(self),
            )
        except PermissionDenied as exc:
            refuse(self, exc)
            return
        except keys_service.KeyInputError as exc:
            error.update(str(exc))
            return
        error.update("")
        self.query_one("#key-name", Input).value = ""
        shown = self.query_one("#key-created", Static)
        shown.update(
            Text.assemble(
                ("New key (copy it now; it is not shown again):\n", "bold"),
                (plaintext, "bold green"),
                "\nSMTP: username apikey, this key as the password.",
            )
        )
        shown.set_class(False, "hidden")
        self.reload(select_id=row.id)
        self.query_one(DataTable).focus()

    # --- revoke ------------------------------------------------------------------------

    def action_revoke(self) -> None:
        key = self._selected()
        if key is None or not authorize(self, Permission.CONFIG):
            return
        if key.revoked:
            self.app.notify(f"key {key.id} ({key.prefix}) is already revoked")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._revoke(key.id)

        self.app.push_screen(
            ConfirmScreen(
                f"Revoke key {key.id} ({key.prefix}, {key.name or 'no name'})? "
                "Applications using it are refused from their next message.",
                yes_label="Revoke",
            ),
            answered,
        )

    @work(exclusive=True, group="keys-revoke", exit_on_error=False)
    async def _revoke(self, key_id: int) -> None:
        try:
            info = await keys_service.revoke_key(runtime_of(self), key_id, actor=actor_of(self))
        except PermissionDenied as exc:
            refuse(self, exc)
            return
        self.query_one("#key-created", Static).set_class(True, "hidden")  # the secret goes away too
        self.app.notify(f"key {info.id} ({info.prefix}) revoked")
        self.reload(select_id=key_id)
