"""Config › Identity (placeholder until its issue lands)."""

from textual.widgets import Static


class IdentityPane(Static):
    """Placeholder pane."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Config › Identity: coming soon", **kwargs)  # type: ignore[arg-type]
