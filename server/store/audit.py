"""The audit log (DESIGN.md §6): privileged actions — transfers, 特呼, cancels, logins to windows,
case views, credential changes — with who, when and what; never personal data."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from server.store import schema as t
from server.store.database import utcnow


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, hall: str | None, actor: str, role: str, action: str, target: str | None, detail: dict) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.audit_log.insert().values(
                    at=utcnow(), hall=hall, actor=actor, role=role, action=action, target=target, detail=detail
                )
            )

    def entries(self, hall: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = sa.select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
        if hall is not None:
            query = query.where(t.audit_log.c.hall == hall)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query).all()]
