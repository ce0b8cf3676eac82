"""Config > Servers: the list of sending servers, and the add/edit form generated from FIELDS.

Saving calls ``delivery.servers.add_server`` / ``edit_server``; a ``ServerConfigError`` puts
each message back under its field in the reopened form, so nothing typed is lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.widgets import DataTable, Static

from mailconsole.console.context import actor_of, authorize, refuse, runtime_of
from mailconsole.console.widgets.formatting import state_text
from mailconsole.console.widgets.server_form import (
    ServerFormScreen,
    ServerFormValues,
    bounce_form_values,
    service_kwargs,
    streams_form_text,
)
from mailconsole.domain.roles import Permission, PermissionDenied
from mailconsole.feedback.handler import build_bounce_handler
from mailconsole.senders.domains import list_domains

if TYPE_CHECKING:
    from mailconsole.delivery.servers import ServerConfigView


def _servers_service() -> Any:
    from mailconsole.delivery import servers

    return servers


class ServerFormsPane(Container):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add server"),
        Binding("e", "edit", "Edit server"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.servers: list[ServerConfigView] = []

    def compose(self) -> ComposeResult:
        yield Static("a adds a server, e or enter edits the highlighted one", classes="summary")
        table: DataTable[Any] = DataTable(id="config-servers-table", cursor_type="row")
        table.add_columns("Name", "Type", "Group", "State", "Speed", "Streams", "Active")
        yield table

    def on_mount(self) -> None:
        self.reload()

    @work(exclusive=True, group="config-servers", exit_on_error=False)
    async def reload(self) -> None:
        self.servers = await _servers_service().list_server_configs(runtime_of(self))
        table = self.query_one(DataTable)
        table.clear()
        for s in self.servers:
            table.add_row(s.name, s.type, s.group, state_text(s.state),
                          s.speed_label, streams_form_text(s.streams), "yes" if s.active else "no", key=str(s.id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    async def _domains(self) -> list[tuple[str, int]]:
        return [(d.domain, d.id) for d in (await list_domains(runtime_of(self)))[:200]]

    def action_add(self) -> None:
        if authorize(self, Permission.CONFIG):
            self._open(ServerFormValues(), editing=False, errors=None, server_id=None)

    def action_edit(self) -> None:
        if not authorize(self, Permission.CONFIG):
            return
        table = self.query_one(DataTable)
        if not self.servers or not 0 <= table.cursor_row < len(self.servers):
            self.app.notify("No server selected.", severity="warning", timeout=3)
            return
        s = self.servers[table.cursor_row]
        self._open(ServerFormValues(
            type=s.type, name=s.name, group=s.group, active=s.active,
            from_name=s.from_name, from_local_part=s.from_local_part, from_domain_id=s.from_domain_id,
            reply_to=s.reply_to,
            speed_mode=s.speed_mode, speed_limit=str(s.speed_limit or ""),
            concurrency=str(s.concurrency), streams=streams_form_text(s.streams),
            fields=dict(s.settings),
            bounce=bounce_form_values(s.bounce_handler),
            bounce_existing=dict(s.bounce_handler)),
            editing=True, errors=None, server_id=s.id)

    @work(group="config-servers-form", exit_on_error=False)
    async def _open(self, values: ServerFormValues, *, editing: bool,
                    errors: dict[str, str] | None, server_id: int | None) -> None:
        domains = await self._domains()
        result = await self.app.push_screen_wait(
            ServerFormScreen(values, editing=editing, domains=domains, errors=errors))
        if result is None:
            return
        service = _servers_service()
        app: Any = self.app
        # The service validates everything again and writes the audit row.
        kwargs = service_kwargs(result, actor_of(self))
        # The bounce mailbox, built (password encrypted) by its own declaration's function.
        handler, bounce_errors = build_bounce_handler(app.runtime, result.bounce, result.bounce_existing)
        if bounce_errors:
            self._open(result, editing=editing, server_id=server_id,
                       errors={f"bounce-{k}": v for k, v in bounce_errors.items()})
            return
        kwargs["bounce_handler"] = handler
        try:
            if server_id is not None:
                await service.edit_server(app.runtime, server_id, **kwargs)
            else:
                await service.add_server(app.runtime, type=result.type, **kwargs)
        except PermissionDenied as exc:
            refuse(self, exc)
            return
        except service.ServerConfigError as exc:
            # Reopen with what was typed and each error under its field.
            self._open(result, editing=editing, errors=dict(exc.errors), server_id=server_id)
            return
        app.notify(f"Server {result.name} saved.", timeout=3)
        self.reload()
