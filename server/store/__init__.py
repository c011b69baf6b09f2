"""The dispatcher's SQL store (DESIGN.md §4), synchronous SQLAlchemy 2 Core called from worker threads:

- `Store` (store.py): the halls' rows, the events outbox and the idempotency answers; the dispatcher
  writes it while it holds the hall's lock, so each hall has one writer. The outbox API for the
  publisher: `fetch_unpublished(hall, limit)`, `mark_published(hall, up_to_seq)`, `last_seq(hall)`.
- `HallLocks` (locks.py): which dispatcher writes which hall (PostgreSQL advisory locks).
- `CredentialStore` (credentials.py): users, device tokens and their revocation, sessions; every
  revocation moves the credentials' generation, which the dispatcher's token cache rereads.
- rows.py: how the group commit writes its rows (PostgreSQL: the sequence guard and every table in one
  statement).
- `AuditLog` (audit.py): privileged actions.
"""

from server.store.audit import AuditLog
from server.store.credentials import CredentialStore
from server.store.locks import HallLocks
from server.store.rows import HallTaken
from server.store.store import (
    CommandWrite,
    EventRow,
    HallRows,
    IdempotentAnswer,
    Store,
)

__all__ = [
    "AuditLog",
    "CommandWrite",
    "CredentialStore",
    "EventRow",
    "HallLocks",
    "HallRows",
    "HallTaken",
    "IdempotentAnswer",
    "Store",
]
