"""Statistics (DESIGN.md §12): hourly roll-ups folded from the committed events, the queries and
exports over them, and the hall's live numbers with their alerts. See docs/stats.md."""
