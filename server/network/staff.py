"""Staff logins at the hub: the users of the hub's database (`hallq hub add-user`), with the
dispatcher's sessions, throttling and argon2 (server/auth.py). The hub has no windows and no
devices. `hallq hub --demo` also accepts the documented demo login `admin` / `demo`, which exists
only in memory: without --demo nobody can log in with it (and the hub refuses to start while a user
of its database has the demo password)."""

from __future__ import annotations

import functools
from typing import Any

from server.auth import Authenticator, hash_password
from server.settings import DEMO_PASSWORD, RequestLimits
from server.store import CredentialStore

DEMO_ADMIN = "admin"


@functools.cache
def _demo_hash() -> str:
    return hash_password(DEMO_PASSWORD)


class HubAuthenticator(Authenticator):
    def __init__(
        self, credentials: CredentialStore, *, demo: bool, session_hours: float, limits: RequestLimits
    ) -> None:
        super().__init__(credentials, [], session_hours, limits)
        self.demo = demo

    def _user_record(self, username: str) -> tuple[dict[str, Any] | None, str | None]:
        record, password_hash = super()._user_record(username)
        if record is None and self.demo and username == DEMO_ADMIN:
            return {"username": DEMO_ADMIN, "role": "admin", "display_name": "管理员", "home": None}, _demo_hash()
        return record, password_hash
