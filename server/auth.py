"""Who is calling: device tokens (config + `hallq token create`), clerk logins bound to a window,
roles clerk / supervisor / admin, and the one authorization rule for window actions (HTTP and MQTT)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error

from hallq.config import HallConfig, Role
from server.login_throttle import LoginThrottle
from server.settings import RequestLimits
from server.store import Store

STAFF_ROLES = frozenset({Role.supervisor.value, Role.admin.value})
DEVICE_CACHE_S = 30.0


class Unauthorized(Exception):
    """No credentials, or credentials that do not verify (401)."""


class Forbidden(Exception):
    """Valid credentials that may not do this (403)."""


@dataclass(frozen=True)
class Principal:
    kind: str  # "device" or "user"
    name: str  # device id or username
    role: str  # device kind, or clerk / supervisor / admin
    display_name: str = ""
    windows: frozenset[str] = frozenset()  # devices: the windows they may command
    hall: str | None = None  # users: the hall of the bound window
    window: str | None = None  # users: the window this login is bound to

    @property
    def is_staff(self) -> bool:
        return self.kind == "user" and self.role in STAFF_ROLES

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}"


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


_hasher = PasswordHasher()
# argon2 is slow on purpose and takes a core: logins hash in their own small pool, so a flood of
# them queues here instead of taking the default thread pool that the store's queries run in.
_password_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hallq-argon2")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    """What an unknown user name is checked against, so it costs what a known one does."""
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (Argon2Error, ValueError):
        return False


def _verify_or_dummy(password_hash: str | None, password: str) -> bool:
    """Verify against the user's hash, or (unknown user) the dummy one and answer False."""
    if password_hash is None:
        verify_password(_dummy_hash(), password)
        return False
    return verify_password(password_hash, password)


def authorize_window(principal: Principal, hall: str, window: str) -> None:
    """A window action needs a clerk logged in to that window, a supervisor/admin, or a device whose
    credential lists the window. Raises Forbidden with a sentence saying which is missing."""
    if principal.is_staff:
        return
    if principal.kind == "device":
        if window in principal.windows:
            return
        raise Forbidden(f"设备 {principal.name} 无权操作 {window} 号窗口")
    if principal.window == window and principal.hall in (None, hall):
        return
    if principal.window is None:
        raise Forbidden(f"请先登录到 {window} 号窗口再操作")
    raise Forbidden(f"您已登录 {principal.window} 号窗口，不能操作 {window} 号窗口")


def require_staff(principal: Principal, what: str) -> None:
    if not principal.is_staff:
        raise Forbidden(f"{what}需要值班主任或管理员权限")


class Authenticator:
    """Resolves bearer tokens. Config credentials are read once; device tokens from the database are
    cached briefly; clerk sessions live in memory and in the `sessions` table (survive a restart)."""

    def __init__(
        self, store: Store, configs: list[HallConfig], session_hours: float, limits: RequestLimits | None = None
    ) -> None:
        self.store = store
        self.session_hours = session_hours
        self.throttle = LoginThrottle(limits or RequestLimits())
        _password_pool.submit(_dummy_hash)  # ready before the first unknown name arrives
        self._config_devices = {d.token_sha256: d for c in configs for d in c.credentials.devices}
        self._config_users = {u.username: u for c in configs for u in c.credentials.users}
        self._window_names = {(c.hall.id, w.id) for c in configs for w in c.windows}
        self._halls = [c.hall.id for c in configs]
        self._sessions: dict[str, Principal] = {}
        self._session_expiry: dict[str, dt.datetime] = {}
        self._device_cache: dict[str, tuple[float, Principal | None]] = {}
        self._guard = threading.Lock()

    def load_sessions(self) -> None:
        now = dt.datetime.now(dt.UTC)
        for row in self.store.active_sessions(now):
            self._remember(row["token_sha256"], _session_principal(row), row["expires_at"])

    # ---- resolving tokens -----------------------------------------------------------------------

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("需要登录或设备令牌（Authorization: Bearer …）")
        digest = sha256_hex(token)
        principal = self._session(digest) or self._device(digest)
        if principal is None:
            raise Unauthorized("令牌无效或已过期，请重新登录")
        return principal

    def authenticate_in_memory(self, token: str | None) -> Principal | None:
        """The principal when it is known without the database (sessions, config, cached tokens)."""
        if not token:
            return None
        digest = sha256_hex(token)
        principal = self._session(digest)
        if principal is not None:
            return principal
        configured = self._config_devices.get(digest)
        if configured is not None:
            return Principal("device", configured.id, configured.kind.value, windows=frozenset(configured.windows))
        cached = self._device_cache.get(digest)
        if cached and cached[0] > time.monotonic() and cached[1] is not None:
            return cached[1]
        return None

    def _session(self, digest: str) -> Principal | None:
        with self._guard:
            principal = self._sessions.get(digest)
            expiry = self._session_expiry.get(digest)
        if principal is None or expiry is None:
            return None
        if expiry <= dt.datetime.now(dt.UTC):
            with self._guard:  # expired: the row's expires_at already says so, no write needed
                self._sessions.pop(digest, None)
                self._session_expiry.pop(digest, None)
            return None
        return principal

    def _device(self, digest: str) -> Principal | None:
        configured = self._config_devices.get(digest)
        if configured is not None:
            return Principal("device", configured.id, configured.kind.value, windows=frozenset(configured.windows))
        cached = self._device_cache.get(digest)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        row = self.store.device_token(digest)
        principal = (
            Principal("device", row["device"], row["kind"], windows=frozenset(row["windows"] or [])) if row else None
        )
        self._device_cache[digest] = (time.monotonic() + DEVICE_CACHE_S, principal)
        return principal

    def device_windows(self, device_id: str) -> frozenset[str]:
        """Windows a device id may command, from the config and from `hallq token create`."""
        windows: set[str] = set()
        for credential in self._config_devices.values():
            if credential.id == device_id:
                windows.update(credential.windows)
        windows.update(self.store.device_windows(device_id) or [])
        return frozenset(windows)

    def device_principal(self, device_id: str) -> Principal:
        """A device already authenticated elsewhere (the broker), acting with its configured windows."""
        kind = next((d.kind.value for d in self._config_devices.values() if d.id == device_id), "bridge")
        return Principal("device", device_id, kind, windows=self.device_windows(device_id))

    # ---- clerk login ------------------------------------------------------------------------------

    def check_password(self, username: str, password: str) -> dict[str, Any] | None:
        """The user's record if the password verifies (database users first, then the config)."""
        record, password_hash = self._user_record(username)
        verified = _verify_or_dummy(password_hash, password)
        return record if verified and record is not None else None

    def _user_record(self, username: str) -> tuple[dict[str, Any] | None, str | None]:
        row = self.store.user(username)
        if row is not None:
            return row, row["password_hash"]
        configured = self._config_users.get(username)
        if configured is None:
            return None, None
        record = {"username": configured.username, "role": configured.role.value,
                  "display_name": configured.display_name}  # fmt: skip
        return record, configured.password_hash

    async def login(
        self, username: str, password: str, hall: str | None, window: str | None, *, client: str = ""
    ) -> tuple[str, Principal]:
        """Verify the password and open a session, bound to `window` if given. A window has one clerk
        at a time: an earlier login bound to it ends. Throttled per client address and user name
        (TooManyAttempts); the hashing runs in its own pool; an unknown name is hashed like a known one."""
        self.throttle.admit(client, username)
        if window is not None:
            hall = hall or (self._halls[0] if len(self._halls) == 1 else None)
            if hall is None or (hall, window) not in self._window_names:
                raise Unauthorized(f"没有 {window} 号窗口")
        record, password_hash = await asyncio.to_thread(self._user_record, username)
        self.throttle.enter_hasher()
        try:
            verified = await asyncio.get_running_loop().run_in_executor(
                _password_pool, _verify_or_dummy, password_hash, password
            )
        finally:
            self.throttle.leave_hasher()
        if not verified or record is None:
            self.throttle.failed(username)
            raise Unauthorized("用户名或密码错误")
        self.throttle.succeeded(username)
        return await asyncio.to_thread(self._open_session, record, hall, window)

    def _open_session(self, user: dict[str, Any], hall: str | None, window: str | None) -> tuple[str, Principal]:
        now = dt.datetime.now(dt.UTC)
        expires = now + dt.timedelta(hours=self.session_hours)
        token = new_token()
        digest = sha256_hex(token)
        principal = Principal(
            "user",
            user["username"],
            user["role"],
            display_name=user["display_name"] or user["username"],
            hall=hall if window else None,
            window=window,
        )
        if window is not None:
            self._forget(self._sessions_on(hall, window))
        self.store.add_session(
            {
                "token_sha256": digest,
                "username": principal.name,
                "role": principal.role,
                "display_name": principal.display_name,
                "hall": principal.hall,
                "window": window,
                "created_at": now,
                "expires_at": expires,
            }
        )
        self._remember(digest, principal, expires)
        return token, principal

    def logout(self, token: str) -> Principal | None:
        digest = sha256_hex(token)
        with self._guard:
            principal = self._sessions.get(digest)
        self._forget([digest])
        return principal

    def clerk_at(self, hall: str, window: str) -> Principal | None:
        """The clerk logged in to a window now, if any."""
        now = dt.datetime.now(dt.UTC)
        with self._guard:
            for digest, principal in self._sessions.items():
                if principal.hall == hall and principal.window == window and self._session_expiry[digest] > now:
                    return principal
        return None

    def _sessions_on(self, hall: str | None, window: str) -> list[str]:
        with self._guard:
            return [d for d, p in self._sessions.items() if p.window == window and p.hall == hall]

    def _remember(self, digest: str, principal: Principal, expires: dt.datetime) -> None:
        with self._guard:
            self._sessions[digest] = principal
            self._session_expiry[digest] = expires

    def _forget(self, digests: list[str]) -> None:
        if not digests:
            return
        with self._guard:
            for digest in digests:
                self._sessions.pop(digest, None)
                self._session_expiry.pop(digest, None)
        self.store.end_sessions(digests)


def _session_principal(row: dict[str, Any]) -> Principal:
    return Principal(
        "user",
        row["username"],
        row["role"],
        display_name=row["display_name"],
        hall=row["hall"],
        window=row["window"],
    )
