"""The one-line header: product, role, database in use (password hidden) and engine state."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from rich.text import Text
from sqlalchemy.engine import make_url
from textual.reactive import reactive
from textual.widget import Widget

from mailconsole.domain.roles import Role

ROLE_STYLE = {Role.VIEWER: "bold black on #7aa2f7", Role.SUPPORT: "bold black on #e0af68",
              Role.ADMIN: "bold black on #f7768e"}
ENGINE_STYLE = {"running": "bold green", "stopped": "bold red", "off": "dim", "starting": "yellow",
                "stopping": "yellow"}


def database_label(url: str) -> str:
    """A short, password-free name for the database.

    SQLite shows the file and its folder (the folder tells a demo database from the real one);
    other backends show the URL with the password masked.
    """
    try:
        parsed = make_url(url)
    except Exception:
        return "database ?"
    if parsed.get_backend_name() == "sqlite":
        path = PurePosixPath(parsed.database or ":memory:")
        tail = "/".join(path.parts[-2:]) if len(path.parts) > 2 else str(path)
        return f"sqlite …/{tail}" if len(path.parts) > 2 else f"sqlite {tail}"
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


class AppHeader(Widget):
    """Docked at the top; the engine state is pushed in by the app's timer."""

    DEFAULT_CSS = """
    AppHeader { dock: top; height: 1; background: $panel; color: $foreground; }
    """

    engine_state: reactive[str] = reactive("off")

    def __init__(self, role: Role, database: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.role = role
        self.database = database

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" mailconsole ", style="bold")
        text.append(f" {self.role.value} ", style=ROLE_STYLE[self.role])
        text.append("  ")
        text.append(self.database, style="italic")
        state = self.engine_state
        style = ENGINE_STYLE.get(state.split(" ", 1)[0], "")
        right = Text.assemble("engine ", (state, style), " ")
        gap = max(2, self.size.width - text.cell_len - right.cell_len)
        text.append(" " * gap)
        text.append_text(right)
        return text
