"""Config › Domains (placeholder until its issue lands)."""

from textual.widgets import Static


class DomainsPane(Static):
    """Placeholder pane."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Config › Domains: coming soon", **kwargs)  # type: ignore[arg-type]
