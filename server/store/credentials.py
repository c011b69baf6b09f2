"""Who may act: clerks' accounts, device tokens (with their revocation list) and login sessions.
Only hashes are stored: argon2 for passwords, SHA-256 for tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from server.store import schema as t
from server.store.database import aware, upsert, utcnow


class CredentialStore:
    """Every change that takes a credential away (revoke, logins ended, password reset) moves the
    credentials' generation in its own transaction, and tells this process's listeners at once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # called after a revocation committed through this store (this process): caches drop at once
        self.on_revoke: list[Callable[[], None]] = []

    def generation(self) -> int:
        """The credentials' generation: one primary-key read (0 before anything was ever revoked)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(t.credential_generation.c.generation).where(t.credential_generation.c.id == 1)
            ).scalar()
        return int(value or 0)

    def _bump(self, conn: sa.Connection) -> None:
        conn.execute(
            t.credential_generation.update()
            .where(t.credential_generation.c.id == 1)
            .values(generation=t.credential_generation.c.generation + 1)
        )

    def _revoked(self) -> None:
        for listener in self.on_revoke:
            listener()

    def add_user(self, username: str, password_hash: str, role: str, display_name: str) -> None:
        with self.engine.begin() as conn:
            upsert(
                conn,
                t.users,
                {
                    "username": username,
                    "password_hash": password_hash,
                    "role": role,
                    "display_name": display_name,
                    "created_at": utcnow(),
                    "disabled_at": None,
                },
                ("username",),
            )
            # a new password (or role) ends every login made with the old one
            conn.execute(
                t.sessions.update()
                .where(t.sessions.c.username == username, t.sessions.c.ended_at.is_(None))
                .values(ended_at=utcnow())
            )
            self._bump(conn)
        self._revoked()

    def user(self, username: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.users).where(t.users.c.username == username, t.users.c.disabled_at.is_(None))
            ).first()
        return dict(row._mapping) if row else None

    def add_device_token(self, device: str, kind: str, token_sha256: str, windows: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.device_tokens.insert().values(
                    token_sha256=token_sha256, device=device, kind=kind, windows=windows, created_at=utcnow()
                )
            )

    def device_token(self, token_sha256: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.device_tokens).where(
                    t.device_tokens.c.token_sha256 == token_sha256, t.device_tokens.c.revoked_at.is_(None)
                )
            ).first()
        return dict(row._mapping) if row else None

    def device_windows(self, device: str) -> list[str] | None:
        """Windows a device registered with `hallq token create` may command (None: unknown device)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.device_tokens.c.windows).where(
                    t.device_tokens.c.device == device, t.device_tokens.c.revoked_at.is_(None)
                )
            ).all()
        if not rows:
            return None
        return sorted({w for r in rows for w in (r.windows or [])})

    def device_kinds(self, device: str) -> list[str]:
        """Kinds of the live tokens `hallq token create` made for a device (empty: none)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.device_tokens.c.kind).where(
                    t.device_tokens.c.device == device, t.device_tokens.c.revoked_at.is_(None)
                )
            ).all()
        return sorted({r.kind for r in rows})

    def revoke_device(self, device: str, configured: list[dict[str, Any]] | None = None) -> int:
        """Revoke every token of a device: those `hallq token create` made, and the hall config's own
        (`configured`: rows of token_sha256, kind, windows), which are written here as revoked so the
        dispatcher refuses them although the config still lists them. Returns how many were revoked."""
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                t.device_tokens.update()
                .where(t.device_tokens.c.device == device, t.device_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            count = int(result.rowcount)
            for credential in configured or []:
                known = conn.execute(
                    sa.select(t.device_tokens.c.revoked_at).where(
                        t.device_tokens.c.token_sha256 == credential["token_sha256"]
                    )
                ).first()
                if known is None:
                    conn.execute(
                        t.device_tokens.insert().values(device=device, created_at=now, revoked_at=now, **credential)
                    )
                    count += 1
            self._bump(conn)
        self._revoked()
        return count

    def token_revoked(self, token_sha256: str) -> bool:
        """Is this device token on the revocation list (a config token revoked with `hallq token revoke`)?"""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.device_tokens.c.revoked_at).where(t.device_tokens.c.token_sha256 == token_sha256)
            ).first()
        return row is not None and row.revoked_at is not None

    def session_live(self, token_sha256: str, now: dt.datetime) -> bool:
        """Is this clerk login still open in the store (not logged out, reset or expired)?"""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.sessions.c.token_sha256).where(
                    t.sessions.c.token_sha256 == token_sha256,
                    t.sessions.c.ended_at.is_(None),
                    t.sessions.c.expires_at > now,
                )
            ).first()
        return row is not None

    def add_session(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.sessions.insert().values(**row))

    def active_sessions(self, now: dt.datetime) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.sessions).where(t.sessions.c.ended_at.is_(None), t.sessions.c.expires_at > now)
            ).all()
        result = []
        for r in rows:
            row = dict(r._mapping)
            row["expires_at"] = aware(row["expires_at"])
            row["created_at"] = aware(row["created_at"])
            result.append(row)
        return result

    def end_sessions(self, token_sha256s: list[str]) -> None:
        if not token_sha256s:
            return
        with self.engine.begin() as conn:
            conn.execute(
                t.sessions.update().where(t.sessions.c.token_sha256.in_(token_sha256s)).values(ended_at=utcnow())
            )
            self._bump(conn)
        self._revoked()
