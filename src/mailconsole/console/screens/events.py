"""Events (placeholder until its issue lands)."""

from textual.widgets import Static


class EventsPane(Static):
    """Placeholder pane."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Events: coming soon", **kwargs)  # type: ignore[arg-type]
