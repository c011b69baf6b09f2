"""FastAPI routers of the dispatcher, one per area, all under /api/v1 (DESIGN.md §6)."""
