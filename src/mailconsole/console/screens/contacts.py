"""Contacts (placeholder until its issue lands)."""

from textual.widgets import Static


class ContactsPane(Static):
    """Placeholder pane."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Contacts: coming soon", **kwargs)  # type: ignore[arg-type]
