"""The dispatcher store: SQL rows, events outbox, credentials and audit (DESIGN.md §4).

`Store` is synchronous (SQLAlchemy 2 Core); the dispatcher calls it from a worker thread while it holds
the hall's lock, so each hall has one writer. The outbox API for the publisher:
`fetch_unpublished(hall, limit)`, `mark_published(hall, up_to_seq)`, `last_seq(hall)`.
"""

from server.store.store import (
    CommandWrite,
    EventRow,
    HallRows,
    HallTaken,
    IdempotentAnswer,
    Store,
)

__all__ = ["CommandWrite", "EventRow", "HallRows", "HallTaken", "IdempotentAnswer", "Store"]
