"""Add/edit a sending server: common fields plus fields GENERATED from the transport's FIELDS.

There is no per-provider code here: every input, label, help text, choice list and error
comes from the ``FieldSpec`` declarations of ``transports.registry.transport_fields(type)``;
the bounce mailbox rows likewise come from ``feedback.handler.BOUNCE_HANDLER_FIELDS`` (ids and
error keys prefixed ``bounce-``).
Errors are shown under their field, from ``parse_fields`` as the person types and from the
service's ``ServerConfigError`` on save.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, Switch

from mailconsole.console.context import runtime_of
from mailconsole.domain.policy import STREAMS
from mailconsole.domain.roles import Actor
from mailconsole.feedback.handler import BOUNCE_HANDLER_FIELDS, build_bounce_handler
from mailconsole.fields import FieldSpec, parse_fields
from mailconsole.transports.registry import TRANSPORT_MODULES, transport_class, transport_fields

SPEED_MODES = (("Unlimited", "unlimited"), ("N per hour", "hour"), ("N per day", "day"))
ALL_STREAMS = "all"
STREAMS_HELP = f"{', '.join(STREAMS)}, or {ALL_STREAMS} (blank is {ALL_STREAMS})"


def _input(*args: Any, **kwargs: Any) -> Input:
    return Input(*args, compact=True, **kwargs)


def _select(*args: Any, **kwargs: Any) -> Select[Any]:
    return Select(*args, compact=True, **kwargs)


def available_types() -> list[tuple[str, str]]:
    """(label, type) for every transport whose module imports; missing ones are left out."""
    out: list[tuple[str, str]] = []
    for type_name in TRANSPORT_MODULES:
        try:
            cls = transport_class(type_name)
        except Exception:
            continue
        out.append((str(getattr(cls, "LABEL", type_name)), type_name))
    return out


@dataclass
class ServerFormValues:
    """What the form starts from (edit) and what it hands to the service (save)."""

    type: str = "smtp"
    name: str = ""
    group: str = "default"
    active: bool = True
    from_name: str = ""
    from_local_part: str = ""
    from_domain_id: int | None = None
    reply_to: str = ""
    speed_mode: str = "unlimited"
    speed_limit: str = ""
    concurrency: str = "4"
    streams: str = ALL_STREAMS  # as typed; see ``streams_value``
    fields: dict[str, Any] = field(default_factory=dict)
    bounce: dict[str, Any] = field(default_factory=dict)  # raw form values of the bounce mailbox
    bounce_existing: dict[str, Any] = field(default_factory=dict)  # what the server stores now


def bounce_form_values(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The stored bounce handler as the form shows it (never the password; '-' = leave in place)."""
    stored = dict(stored or {})
    if not stored:
        return {"type": "none"}
    values = {spec.name: stored.get(spec.name) for spec in BOUNCE_HANDLER_FIELDS if not spec.secret}
    if "processed_folder" in stored and not stored["processed_folder"]:
        values["processed_folder"] = "-"
    return {k: v for k, v in values.items() if v is not None}


def field_widget(spec: FieldSpec, value: Any, editing: bool, prefix: str = "field-") -> Widget:
    """One input for one declared field, by kind."""
    wid = f"{prefix}{spec.name}"
    if spec.kind == "bool":
        return Switch(value=bool(spec.default if value is None else value), id=wid)
    if spec.kind == "select":
        current = value if value is not None else spec.default
        return _select([(c, c) for c in spec.choices], value=current if current in spec.choices
                      else Select.NULL, id=wid, allow_blank=not spec.required)
    text = "" if value is None else str(value)
    placeholder = spec.help or spec.label
    if spec.secret and editing:
        placeholder = "unchanged (type to replace)"
    if value is None and spec.default is not None and not spec.secret:
        text = str(spec.default)
    kind = {"int": "integer", "float": "number"}.get(spec.kind, "text")
    return _input(text, placeholder=placeholder, password=spec.secret, type=kind, id=wid)


def widget_value(widget: Widget) -> Any:
    if isinstance(widget, Switch):
        return widget.value
    if isinstance(widget, Select):
        return None if widget.value is Select.NULL else widget.value
    if isinstance(widget, Input):
        return widget.value
    return None


class ServerFormScreen(ModalScreen[ServerFormValues | None]):
    """Returns the values to save; the caller calls the service and may reopen with errors."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, values: ServerFormValues, *, editing: bool, domains: list[tuple[str, int]],
                 errors: dict[str, str] | None = None) -> None:
        super().__init__(classes="modal")
        self.values = values
        self.editing = editing
        self.domains = domains
        self.errors = dict(errors or {})

    # --- layout -------------------------------------------------------------------------

    def _row(self, label: str, widget: Widget, name: str, help_text: str = "") -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            with Vertical(classes="form-input"):
                yield widget
                yield Static(self.errors.get(name, ""), id=f"err-{name}", classes="form-error")
                if help_text:
                    yield Static(help_text, classes="form-help")

    def compose(self) -> ComposeResult:
        v = self.values
        with VerticalScroll(id="server-form", classes="dialog") as box:
            box.border_title = f"Edit server {v.name}" if self.editing else "Add a sending server"
            box.border_subtitle = "ctrl+s saves · escape cancels"
            types = available_types()
            yield from self._row("Type", _select(types, value=v.type if v.type in dict(
                (t, t) for _, t in types) else Select.NULL, id="common-type", allow_blank=False,
                disabled=self.editing) if types else Static("no transport available"), "type")
            yield from self._row("Name", _input(v.name, id="common-name"), "name")
            yield from self._row("Group", _input(v.group, id="common-group"), "group")
            yield from self._row("Active", Switch(value=v.active, id="common-active"), "active")
            yield from self._row("From name", _input(v.from_name, id="common-from_name"), "from_name")
            yield from self._row("From local part", _input(v.from_local_part, placeholder="e.g. news",
                                 id="common-from_local_part"), "from_local_part")
            domain_ids = [i for _, i in self.domains]
            yield from self._row("From domain", _select(
                self.domains, value=v.from_domain_id if v.from_domain_id in domain_ids else Select.NULL,
                id="common-from_domain", prompt="account's sending domains"), "from_domain_id")
            yield from self._row("Reply-to", _input(v.reply_to, id="common-reply_to"), "reply_to")
            yield from self._row("Speed", _select(SPEED_MODES, value=v.speed_mode, allow_blank=False,
                                 id="common-speed_mode"), "speed")
            yield from self._row("Speed limit N", _input(v.speed_limit, type="integer",
                                 id="common-speed_limit"), "speed_limit")
            yield from self._row("Concurrency", _input(v.concurrency, type="integer",
                                 id="common-concurrency"), "concurrency")
            yield from self._row("Streams", _input(v.streams, placeholder=STREAMS_HELP,
                                 id="common-streams"), "streams", STREAMS_HELP)
            yield Static("", id="type-heading", classes="form-heading")
            yield Vertical(id="type-fields")
            yield Static("Bounce mailbox", classes="form-heading")
            with Vertical(id="bounce-fields"):
                for spec in BOUNCE_HANDLER_FIELDS:
                    yield from self._spec_row(spec, v.bounce.get(spec.name), "bounce-",
                                              editing=bool(v.bounce_existing))
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def _spec_row(self, spec: FieldSpec, value: Any, prefix: str, *, editing: bool) -> ComposeResult:
        """Label, input, error line and help for one declared field."""
        label = spec.label + (" *" if spec.required else "")
        name = f"{prefix}{spec.name}" if prefix != "field-" else spec.name
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            with Vertical(classes="form-input"):
                yield field_widget(spec, value, editing, prefix)
                yield Static(self.errors.get(name, ""), id=f"err-{name}", classes="form-error")
                if spec.help:
                    yield Static(spec.help, classes="form-help")

    async def on_mount(self) -> None:
        await self._mount_type_fields(self.values.type)
        self.show_errors(self.errors)

    def current_type(self) -> str:
        try:
            value = self.query_one("#common-type", Select).value
        except Exception:
            return self.values.type
        return str(value) if value is not Select.NULL else self.values.type

    def specs(self, type_name: str | None = None) -> tuple[FieldSpec, ...]:
        try:
            return transport_fields(type_name or self.current_type())
        except Exception:
            return ()

    async def _mount_type_fields(self, type_name: str) -> None:
        container = self.query_one("#type-fields", Vertical)
        await container.remove_children()
        specs = self.specs(type_name)
        self.query_one("#type-heading", Static).update(f"{type_name} settings" if specs else "")
        widgets: list[Widget] = []
        for spec in specs:
            row = Horizontal(classes="form-row")
            label = spec.label + (" *" if spec.required else "")
            value = self.values.fields.get(spec.name) if type_name == self.values.type else None
            inner = Vertical(field_widget(spec, value, self.editing),
                             Static(self.errors.get(spec.name, ""), id=f"err-{spec.name}",
                                    classes="form-error"),
                             Static(spec.help, classes="form-help"), classes="form-input")
            row.compose_add_child(Label(label, classes="form-label"))
            row.compose_add_child(inner)
            widgets.append(row)
        await container.mount_all(widgets)

    @on(Select.Changed, "#common-type")
    async def _type_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            await self._mount_type_fields(str(event.value))

    # --- values and validation ----------------------------------------------------------

    def raw_fields(self) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for spec in self.specs():
            try:
                raw[spec.name] = widget_value(self.query_one(f"#field-{spec.name}"))
            except Exception:
                continue
        return raw

    def raw_bounce(self) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for spec in BOUNCE_HANDLER_FIELDS:
            value = widget_value(self.query_one(f"#bounce-{spec.name}"))
            if value not in (None, ""):
                raw[spec.name] = value
        return raw

    def collect(self) -> ServerFormValues:
        def text(name: str) -> str:
            return self.query_one(f"#common-{name}", Input).value.strip()

        domain = self.query_one("#common-from_domain", Select).value
        return ServerFormValues(
            type=self.current_type(), name=text("name"), group=text("group") or "default",
            active=self.query_one("#common-active", Switch).value, from_name=text("from_name"),
            from_local_part=text("from_local_part"),
            from_domain_id=None if domain is Select.NULL else int(domain),  # type: ignore[arg-type]
            reply_to=text("reply_to"),
            speed_mode=str(self.query_one("#common-speed_mode", Select).value),
            speed_limit=text("speed_limit"), concurrency=text("concurrency"), streams=text("streams"),
            fields=self.raw_fields(), bounce=self.raw_bounce(),
            bounce_existing=dict(self.values.bounce_existing),
        )

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put each message under its field; clear the others."""
        self.errors = dict(errors)
        for widget in self.query(".form-error"):
            name = (widget.id or "").removeprefix("err-")
            message = errors.get(name, "")
            widget.update(message)  # type: ignore[attr-defined]
            widget.display = bool(message)

    def local_errors(self) -> dict[str, str]:
        """The checks that need no database: the transport's own parse, and the common numbers."""
        values = self.collect()
        errors = dict(parse_fields(self.specs(), values.fields,
                                   existing_secrets={s.name: "" for s in self.specs()
                                                     if s.secret} if self.editing else None).errors)
        if not values.name:
            errors["name"] = "a name is required"
        if values.speed_mode != "unlimited" and not values.speed_limit.isdigit():
            errors["speed"] = "give the number of messages per hour or per day"
        if not values.concurrency.isdigit() or int(values.concurrency) < 1:
            errors["concurrency"] = "concurrency must be a whole number of at least 1"
        # The declaration's own checks plus what each mailbox type needs (same function as save).
        _, bounce_errors = build_bounce_handler(runtime_of(self),
                                                values.bounce, values.bounce_existing)
        errors.update({f"bounce-{name}": text for name, text in bounce_errors.items()})
        return errors

    @on(Input.Blurred)
    def _validate_on_leave(self, event: Input.Blurred) -> None:
        self.show_errors(self.local_errors())

    def action_save(self) -> None:
        errors = self.local_errors()
        self.show_errors(errors)
        if errors:
            self.notify(f"{len(errors)} field(s) need attention", severity="error", timeout=4)
            return
        self.dismiss(self.collect())

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()


def service_kwargs(values: ServerFormValues, actor: Actor) -> dict[str, Any]:
    """The form's values in the shape ``add_server`` / ``edit_server`` take."""
    return {
        "name": values.name, "group": values.group or "default", "fields": dict(values.fields),
        "from_name": values.from_name, "from_local_part": values.from_local_part,
        "from_domain_id": values.from_domain_id, "reply_to": values.reply_to,
        "speed_mode": values.speed_mode,
        "speed_limit": int(values.speed_limit) if values.speed_limit.isdigit() else None,
        "concurrency": int(values.concurrency) if values.concurrency.isdigit() else 0,
        "active": values.active, "streams": streams_value(values.streams), "actor": actor,
    }


def streams_form_text(stored: list[str] | None) -> str:
    """A server's stored streams as the form shows them: an empty list carries every stream."""
    return ", ".join(stored) if stored else ALL_STREAMS


def streams_value(text: str) -> list[str]:
    """The Streams field as the service takes it, like ``servers add --stream``: words split on
    commas or spaces, ``all`` (or nothing) meaning every stream (an empty list). The words are
    not checked here: ``add_server``/``edit_server`` validate them, with the CLI's wording."""
    words = [w for w in text.replace(",", " ").split() if w]
    return [] if not words or ALL_STREAMS in (w.lower() for w in words) else words

