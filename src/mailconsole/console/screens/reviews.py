"""Reviews (placeholder until its issue lands)."""

from textual.widgets import Static


class ReviewsPane(Static):
    """Placeholder pane."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Reviews: coming soon", **kwargs)  # type: ignore[arg-type]
