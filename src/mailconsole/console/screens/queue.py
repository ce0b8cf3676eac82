"""Queue (placeholder until its issue lands)."""

from textual.widgets import Static


class QueuePane(Static):
    """Placeholder pane."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Queue: coming soon", **kwargs)  # type: ignore[arg-type]
