"""Config › API keys (placeholder until its issue lands)."""

from textual.widgets import Static


class ApiKeysPane(Static):
    """Placeholder pane."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Config › API keys: coming soon", **kwargs)  # type: ignore[arg-type]
