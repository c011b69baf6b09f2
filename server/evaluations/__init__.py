"""好差评 (DESIGN.md §11): ratings with the national levels, and the rectification loop of every 差评."""
