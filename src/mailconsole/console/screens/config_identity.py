"""Config > Identity: the sender identity form, inline rule checks, and the test send.

The form checks the same rules as the service (``domain.addresses.identity_rules``) as you
type, so the message under a field is the one saving would give. Saving and the test send call
``senders.identity`` and ``senders.test_send``; only admins may change anything.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static

from mailconsole.console.context import actor_of, authorize, refuse, role_of, runtime_of
from mailconsole.domain.addresses import identity_rules
from mailconsole.domain.roles import Permission, PermissionDenied, allowed
from mailconsole.senders.identity import IdentityRulesBroken, IdentityView, get_identity, save_identity
from mailconsole.senders.test_send import TEST_SEND_NOTE, TestSendError, send_test

FIELDS = (
    ("sender_name", "Sender name", "Jane Doe"),
    ("from_addr", "From address", "jane@yourcompany.com"),
    ("reply_to", "Reply-to address", "support@yourcompany.com"),
)


class IdentityPane(VerticalScroll):
    """Sender name, from and reply-to for the account, with the placeholder warning."""

    DEFAULT_CSS = """
    IdentityPane { padding: 0 1; }
    IdentityPane .identity-row { height: auto; margin: 1 0 0 0; }
    IdentityPane .identity-label { width: 18; padding: 0 1 0 0; }
    IdentityPane .identity-row Input { width: 1fr; }
    IdentityPane .field-error { color: $error; padding: 0 0 0 18; height: auto; }
    IdentityPane #identity-warning { background: $warning 30%; color: $text; padding: 0 1; text-style: bold; }
    IdentityPane #identity-warning.hidden { display: none; }
    IdentityPane .identity-note { color: $text-muted; padding: 1 0 0 0; }
    IdentityPane #test-result { padding: 0 0 0 18; height: auto; }
    IdentityPane #test-result.failed { color: $error; }
    IdentityPane #test-result.ok { color: $success; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save identity"),
        Binding("ctrl+t", "test_send", "Send test"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.identity: IdentityView | None = None
        self._touched: set[str] = set()
        self._loaded: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="identity-warning", classes="hidden")
        for field_id, label, placeholder in FIELDS:
            with Horizontal(classes="identity-row"):
                yield Label(label, classes="identity-label")
                yield Input(placeholder=placeholder, id=f"identity-{field_id}", compact=True)
            yield Static("", id=f"error-{field_id}", classes="field-error")
        yield Static(
            "Both addresses must be on your own business domain (not free-mail or disposable) "
            "and on the same domain. ctrl+s saves.",
            classes="identity-note",
        )
        yield Static("", id="test-note", classes="identity-note")
        with Horizontal(classes="identity-row"):
            yield Label("Send test to", classes="identity-label")
            yield Input(placeholder="you@yourcompany.com, then enter or ctrl+t", id="identity-test-to", compact=True)
        yield Static("", id="test-result")

    def on_mount(self) -> None:
        note = TEST_SEND_NOTE.format(sender=runtime_of(self).settings.notification_from)
        self.query_one("#test-note", Static).update(note)
        if not allowed(role_of(self), Permission.CONFIG):
            for field_id, _, _ in FIELDS:
                self.query_one(f"#identity-{field_id}", Input).disabled = True
            self.query_one("#identity-test-to", Input).disabled = True
        self.reload()



    def focus_default(self) -> None:
        """The pane itself, not its first field: ctrl+s / ctrl+t answer at once (with the
        refusal for a viewer, whose fields are disabled), the digit keys still switch panes,
        and tab moves into the fields."""
        self.focus()

    # --- data --------------------------------------------------------------------------

    @work(exclusive=True, group="identity-load", exit_on_error=False)
    async def reload(self) -> None:
        view = await get_identity(runtime_of(self))
        self._show(view)

    def _show(self, view: IdentityView) -> None:
        self.identity = view
        self._loaded = {
            "sender_name": view.sender_name,
            "from_addr": view.from_address,
            "reply_to": view.reply_to,
        }
        for field_id, value in self._loaded.items():
            self.query_one(f"#identity-{field_id}", Input).value = value
        self._touched.clear()
        warning = self.query_one("#identity-warning", Static)
        if view.is_placeholder:
            warning.update(f"⚠ {view.from_address}: {view.warning}. Save your own identity below.")
        warning.set_class(not view.is_placeholder, "hidden")
        self._show_errors({})

    # --- inline validation ---------------------------------------------------------------

    def _values(self) -> dict[str, str]:
        return {f: self.query_one(f"#identity-{f}", Input).value for f, _, _ in FIELDS}

    def _show_errors(self, errors: dict[str, str]) -> None:
        for field_id, _, _ in FIELDS:
            self.query_one(f"#error-{field_id}", Static).update(errors.get(field_id, ""))

    def _validate(self, fields: set[str]) -> dict[str, str]:
        values = self._values()
        found: dict[str, str] = {}
        for err in identity_rules(values["sender_name"], values["from_addr"], values["reply_to"]):
            if err.field in fields and err.field not in found:
                found[err.field] = err.message
        self._show_errors(found)
        return found

    def on_input_changed(self, event: Input.Changed) -> None:
        field_id = (event.input.id or "").removeprefix("identity-")
        if field_id not in self._loaded:
            return
        if field_id not in self._touched and event.value == self._loaded[field_id]:
            return  # the stored value being loaded, not something the person typed
        self._touched.add(field_id)
        self._validate(self._touched)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "identity-test-to":
            self.action_test_send()
        else:
            self.action_save()

    # --- actions -------------------------------------------------------------------------

    def action_save(self) -> None:
        if not authorize(self, Permission.CONFIG):
            return
        if self._validate({f for f, _, _ in FIELDS}):
            return
        self._save(self._values())

    @work(exclusive=True, group="identity-save", exit_on_error=False)
    async def _save(self, values: dict[str, str]) -> None:
        try:
            view = await save_identity(
                runtime_of(self),
                sender_name=values["sender_name"],
                from_addr=values["from_addr"],
                reply_to=values["reply_to"],
                actor=actor_of(self),
            )
        except PermissionDenied as exc:
            refuse(self, exc)
            return
        except IdentityRulesBroken as exc:
            self._show_errors({e.field: e.message for e in reversed(exc.errors)})
            return
        self._show(view)
        self.app.notify(f"Sender identity saved: {view.sender_name} <{view.from_address}>")

    def action_test_send(self) -> None:
        if not authorize(self, Permission.CONFIG):
            return
        to = self.query_one("#identity-test-to", Input).value
        result = self.query_one("#test-result", Static)
        result.set_classes("")
        result.update(f"sending a test to {to} …")
        self._test(to)

    @work(exclusive=True, group="identity-test", exit_on_error=False)
    async def _test(self, to: str) -> None:
        result = self.query_one("#test-result", Static)
        try:
            outcome = await send_test(runtime_of(self), to, actor=actor_of(self))
        except (TestSendError, PermissionDenied) as exc:
            result.set_classes("failed")
            result.update(str(exc))
            return
        result.set_classes("ok" if outcome.accepted else "failed")
        result.update(outcome.summary)
