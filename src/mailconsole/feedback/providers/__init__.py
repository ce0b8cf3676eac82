"""One module per ESP webhook: verify the request, then turn its events into FeedbackReports."""
