"""Servers (placeholder until its issue lands)."""

from textual.widgets import Static


class ServersPane(Static):
    """Placeholder pane."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Servers: coming soon", **kwargs)  # type: ignore[arg-type]
