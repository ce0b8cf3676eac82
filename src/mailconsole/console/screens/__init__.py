"""Console panes, one per file."""
