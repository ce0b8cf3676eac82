"""The console's server form is generated from each ESP's FIELDS: secrets are masked inputs,
selects offer the declared choices, and a filled form parses with no errors."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import Input, Select

from mailconsole.console.widgets.server_form import ServerFormScreen, ServerFormValues
from mailconsole.transports.base import parse_fields
from mailconsole.transports.registry import transport_fields
from tests.transports.esp_cases import SECRET

FILL = {
    "ses": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET},
    "sendgrid": {"api_key": SECRET},
    "mailgun": {"api_key": SECRET, "domain": "mg.example.com"},
    "postmark": {"server_token": SECRET},
    "elasticemail": {"api_key": SECRET},
}


class FormApp(App[None]):
    def __init__(self, type_name: str) -> None:
        super().__init__()
        self.type_name = type_name

    def on_mount(self) -> None:
        self.push_screen(ServerFormScreen(ServerFormValues(type=self.type_name, name="x"), editing=False, domains=[]))


@pytest.mark.parametrize("type_name", sorted(FILL))
async def test_form_for_each_esp_masks_secrets_and_parses_when_filled(type_name: str) -> None:
    app = FormApp(type_name)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ServerFormScreen)
        for spec in transport_fields(type_name):
            widget = form.query_one(f"#field-{spec.name}")
            if spec.kind == "select":
                assert isinstance(widget, Select) and widget.value == spec.default
            else:
                assert isinstance(widget, Input) and widget.password is spec.secret
        for name, value in FILL[type_name].items():
            form.query_one(f"#field-{name}", Input).value = value
        parsed = parse_fields(transport_fields(type_name), form.collect().fields)
        assert parsed.errors == {}
        assert set(parsed.secrets) == {s.name for s in transport_fields(type_name) if s.secret}
