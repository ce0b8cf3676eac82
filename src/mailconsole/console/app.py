"""Placeholder: the console shell is being built."""

from mailconsole.domain.roles import Role
from mailconsole.settings import Settings


def run_console(settings: Settings, role: Role) -> None:
    raise SystemExit("console not built yet")
