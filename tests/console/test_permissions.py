"""One refusal, everywhere: a viewer pressing an admin or support action in any pane is told the
same thing (the role and the permission, in ``domain.roles``' words) and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from tests.console.conftest import AppFactory

from mailconsole.domain.roles import Role
from mailconsole.showcase import seed_showcase
from mailconsole.store.models import Base


async def _database(app: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, so any write at all (audit log included) shows up."""
    async with app.runtime.sessions() as session:
        return {table.name: [tuple(row) for row in (await session.execute(select(table))).all()]
                for table in Base.metadata.sorted_tables}


# (pane key, Config tab or None, key pressed, permission the action needs)
ACTIONS = [
    ("1", None, "h", "queue_action"),  # Queue: hold
    ("2", None, "p", "queue_action"),  # Servers: pause
    ("3", None, "c", "contact_action"),  # Contacts: check again
    ("4", None, "a", "review"),  # Reviews: approve
    ("5", "config-identity", "ctrl+s", "config"),  # Identity: save
    ("5", "config-domains", "a", "config"),  # Domains: add
    ("5", "config-servers", "a", "config"),  # Servers form: add
    ("5", "config-servers", "e", "config"),  # Servers form: edit
    ("5", "config-api-keys", "c", "config"),  # API keys: create
    ("5", "config-api-keys", "x", "config"),  # API keys: revoke
    ("6", None, "p", "config"),  # Events: poll the bounce mailboxes
]


@pytest.mark.parametrize(("pane_key", "tab", "key", "permission"), ACTIONS,
                         ids=[f"{p}-{t or ''}-{k}" for p, t, k, _ in ACTIONS])
async def test_viewer_pressing_a_privileged_key_sees_the_one_refusal_and_nothing_changes(
        make_app: AppFactory, pane_key: str, tab: str | None, key: str, permission: str) -> None:
    app = make_app(role=Role.VIEWER, seed=seed_showcase)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(pane_key)
        if tab is not None:
            app.show_config_tab(tab)
        await pilot.pause(0.5)
        before = await _database(app)
        await pilot.press(key)
        await pilot.pause(0.3)
        refusals = [(n.title, n.message) for n in app._notifications if n.severity == "error"]
        assert refusals == [("Not allowed", f"the viewer role may not do this ({permission}); ask an admin")]
        assert app.screen is app.screen_stack[0]  # no form, prompt or confirmation was offered
        assert await _database(app) == before
        await pilot.pause(0.3)
