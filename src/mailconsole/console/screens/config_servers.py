"""Config › Servers (placeholder until its issue lands)."""

from textual.widgets import Static


class ServerFormsPane(Static):
    """Placeholder pane."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Config › Servers: coming soon", **kwargs)  # type: ignore[arg-type]
