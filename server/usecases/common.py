"""Small pieces every use case shares."""

from __future__ import annotations

from typing import Any

from server.auth import Principal
from server.runtime import Answer, HallRuntime


def audit_entry(principal: Principal, action: str, target: str, detail: dict[str, Any]) -> list[dict[str, Any]]:
    """One privileged action for the audit log (never personal data: ids, numbers, windows only)."""
    return [{"actor": principal.actor, "role": principal.role, "action": action, "target": target, "detail": detail}]


def nothing(_runtime: HallRuntime, _events: list[Any]) -> Answer:
    """For commands whose caller needs no body (login opening a window, the day ticker)."""
    return Answer(200, None)
