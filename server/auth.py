"""Who is calling: device tokens (config + `hallq token create`), clerk logins bound to a window,
roles clerk / supervisor / admin, and the one authorization rule for window actions (HTTP and MQTT)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import math
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error

from hallq.config import DeviceKind, HallConfig, Role
from server.login_throttle import LoginThrottle
from server.settings import RequestLimits
from server.store import CredentialStore

STAFF_ROLES = frozenset({Role.supervisor.value, Role.admin.value})
# A credential taken away by another process (`hallq token revoke`, a logout on another dispatcher) is
# refused within this many seconds; one taken away through this process, at once.
RECHECK_S = 1.0


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
    # the hall whose config defines the credential: it acts in that hall only (None: made with
    # `hallq user add` / `hallq token create`, valid in every hall of the dispatcher)
    home: str | None = None

    def may_act_in(self, hall: str) -> bool:
        return self.home in (None, hall)

    @property
    def is_staff(self) -> bool:
        return self.kind == "user" and self.role in STAFF_ROLES

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    @property
    def is_front_desk(self) -> bool:
        """The hall's own staff (clerk, supervisor, admin), who serve citizens at the counter; not a
        department's back-office staff, who see their department's cases only."""
        return self.kind == "user" and self.role != Role.department.value

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}"


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A bearer token that never starts with '-': printed tokens are pasted after `--token` or
    `--hub-token`, where a leading '-' reads as another option."""
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


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


# devices that operate a window for its clerk: the keypad, the terminal, the demo's catch-all credential
WINDOW_OPERATOR_KINDS = frozenset({DeviceKind.keypad_bridge.value, DeviceKind.terminal.value, DeviceKind.bridge.value})


def authorize_hall(principal: Principal, hall: str) -> None:
    """A credential from one hall's config acts in that hall only (several halls on one dispatcher)."""
    if not principal.may_act_in(hall):
        raise Forbidden(
            f"{principal.name} 属于 {principal.home} 大厅，不能在 {hall} 大厅操作。 Not a credential of hall {hall}."
        )


def authorize_window(principal: Principal, hall: str, window: str) -> None:
    """A window action needs a clerk logged in to that window, a supervisor/admin, or a device that
    operates windows (WINDOW_OPERATOR_KINDS) whose credential lists the window; all of its hall. Raises
    Forbidden with a sentence saying which is missing."""
    authorize_hall(principal, hall)
    if principal.is_staff:
        return
    if principal.kind == "device":
        if principal.role not in WINDOW_OPERATOR_KINDS:
            raise Forbidden(
                f"设备 {principal.name}（{principal.role}）不能操作窗口。"
                f" A {principal.role} device may not operate a window."
            )
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


# ---- who may do what to a citizen's ticket ----------------------------------------------------------
# `bridge` is the catch-all kind: one credential standing for every device of a small hall (the demo's
# `demo-device` drives the kiosk, the board and the terminals). A hall that gives each device its own
# credential gets the narrower rules below.
CATCH_ALL_KIND = DeviceKind.bridge.value
# the screens turned to the citizen: a ticket's holder acts there in person
CITIZEN_KIOSK_KINDS = frozenset({DeviceKind.kiosk.value, CATCH_ALL_KIND})
# devices at a window that the citizen served there rates on: the evaluator, the terminal's rating screen
RATING_AT_WINDOW_KINDS = frozenset({DeviceKind.evaluator.value, DeviceKind.terminal.value, CATCH_ALL_KIND})


def may_cancel(principal: Principal | None) -> None:
    """Cancel a ticket: the citizen (the ticket's access key, checked by the caller, so `principal` is
    None), the citizen at a kiosk (a kiosk's device token), or a supervisor/admin. A clerk, a board, a
    keypad or any other device may not. Raises Forbidden with the sentence to show."""
    if principal is None or principal.is_staff:
        return
    if principal.kind == "device" and principal.role in CITIZEN_KIOSK_KINDS:
        return
    if principal.is_user:
        raise Forbidden("取消号码需要值班主任或管理员权限。 Only a supervisor may cancel a ticket.")
    raise Forbidden(
        f"设备 {principal.name}（{principal.role}）不能取消号码，请在自助取号机或手机上操作。"
        f" A {principal.role} device may not cancel a ticket."
    )


def may_rate(principal: Principal | None, ticket_window: str | None) -> None:
    """好差评 comes from the citizen only: the ticket's access key (the QR page; `principal` None, the
    key checked by the caller), a kiosk, or a rating device at the window that served the ticket (its
    evaluator, the terminal's citizen-facing screen by the terminal's device token). Never a staff login
    (the clerk who served it, a supervisor) and never a board, keypad or other device. Raises Forbidden."""
    if principal is None:
        return
    if principal.is_user:
        raise Forbidden(
            "好差评须由办事群众本人评价，工作人员账号不能评价。 Staff logins may not rate a service;"
            " the citizen rates on the evaluator, the kiosk or the ticket's QR page."
        )
    if principal.role == DeviceKind.kiosk.value:
        return
    if principal.role in RATING_AT_WINDOW_KINDS:  # the catch-all too: at the windows it lists
        if ticket_window is not None and ticket_window in principal.windows:
            return
        where = f"{ticket_window} 号窗口" if ticket_window else "任何窗口"
        raise Forbidden(
            f"设备 {principal.name} 不属于办理该号码的{where}，不能评价。"
            f" Device {principal.name} is not at the window that served this ticket."
        )
    raise Forbidden(
        f"设备 {principal.name}（{principal.role}）不能评价。 A {principal.role} device may not rate a service."
    )


class Authenticator:
    """Resolves bearer tokens. Config credentials are read once; clerk sessions live in memory and in
    the `sessions` table (survive a restart). A token the store confirmed is kept in memory while the
    credentials' generation (one row every revocation moves) has been read within `recheck_s` and has
    not moved since: a revocation, a logout or a password reset made by another process (`hallq token
    revoke`, `hallq user add`, another dispatcher) is refused within `recheck_s`, and one made through
    this process's CredentialStore at once (its `on_revoke` drops the cache)."""

    def __init__(
        self,
        credentials: CredentialStore,
        configs: list[HallConfig],
        session_hours: float,
        limits: RequestLimits | None = None,
        *,
        recheck_s: float = RECHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.session_hours = session_hours
        self.throttle = LoginThrottle(limits or RequestLimits())
        _password_pool.submit(_dummy_hash)  # ready before the first unknown name arrives
        self._config_devices = {d.token_sha256: d for c in configs for d in c.credentials.devices}
        self._config_users = {u.username: u for c in configs for u in c.credentials.users}
        # each configured credential's hall (settings refuse one id or name in two halls)
        self._device_home = {d.id: c.hall.id for c in configs for d in c.credentials.devices}
        self._user_home = {u.username: c.hall.id for c in configs for u in c.credentials.users}
        self._window_names = {(c.hall.id, w.id) for c in configs for w in c.windows}
        self._halls = [c.hall.id for c in configs]
        self._sessions: dict[str, Principal] = {}
        self._session_expiry: dict[str, dt.datetime] = {}
        self._guard = threading.Lock()
        # The cache of confirmed tokens: digest → principal, trusted while the generation is fresh.
        self.recheck_s = recheck_s
        self._clock = clock
        self._verified: dict[str, Principal] = {}
        self._epoch = 0  # moves whenever the cache is dropped: a verification begun before is not kept
        self._generation: int | None = None
        self._checked_at = -math.inf  # when the last generation read that completed began
        credentials.on_revoke.append(self.drop_verified)

    def load_sessions(self) -> None:
        now = dt.datetime.now(dt.UTC)
        for row in self.credentials.active_sessions(now):
            principal = _session_principal(row, self._user_home.get(row["username"]))
            self._remember(row["token_sha256"], principal, row["expires_at"])

    # ---- resolving tokens (blocking: one indexed query; call from a worker thread) -------------------

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("需要登录或设备令牌（Authorization: Bearer …）")
        digest = sha256_hex(token)
        epoch = self._recheck()
        principal = self._session(digest) or self._device(digest)
        if principal is None:
            raise Unauthorized("令牌无效、已吊销或已过期，请重新登录。 The token is unknown, revoked or expired.")
        with self._guard:
            if epoch == self._epoch:  # nothing was revoked while the store was asked
                self._verified[digest] = principal
        return principal

    def cached(self, token: str | None) -> Principal | None:
        """The principal of a token the store confirmed, while that answer may be trusted (no I/O: for
        the event loop); None means ask `authenticate`."""
        if not token or self._clock() - self._checked_at >= self.recheck_s:
            return None
        digest = sha256_hex(token)
        principal = self._verified.get(digest)
        if principal is not None and principal.kind == "user":
            expiry = self._session_expiry.get(digest)  # gone: logged out here; past: expired
            if expiry is None or expiry <= dt.datetime.now(dt.UTC):
                return None
        return principal

    def drop_verified(self) -> None:
        """Forget every confirmed token (something was revoked): the next requests ask the store."""
        with self._guard:
            self._verified.clear()
            self._epoch += 1

    def _recheck(self) -> int:
        """Read the credentials' generation when the last read is older than `recheck_s`; a moved one
        drops the cache. Returns the cache's epoch a verification starting now belongs to."""
        with self._guard:
            if self._clock() - self._checked_at < self.recheck_s:
                return self._epoch
        started = self._clock()
        generation = self.credentials.generation()
        with self._guard:
            if generation != self._generation:
                self._verified.clear()
                self._epoch += 1
                self._generation = generation
            self._checked_at = max(self._checked_at, started)
            return self._epoch

    def _session(self, digest: str) -> Principal | None:
        with self._guard:
            principal = self._sessions.get(digest)
            expiry = self._session_expiry.get(digest)
        if principal is None or expiry is None:
            return None
        now = dt.datetime.now(dt.UTC)
        if expiry <= now or not self.credentials.session_live(digest, now):
            with self._guard:  # expired, logged out or reset elsewhere: the row already says so
                self._sessions.pop(digest, None)
                self._session_expiry.pop(digest, None)
            return None
        return principal

    def _device(self, digest: str) -> Principal | None:
        configured = self._config_devices.get(digest)
        if configured is not None:
            if self.credentials.token_revoked(digest):
                return None
            return Principal(
                "device",
                configured.id,
                configured.kind.value,
                windows=frozenset(configured.windows),
                home=self._device_home[configured.id],
            )
        row = self.credentials.device_token(digest)
        if row is None:
            return None
        return Principal("device", row["device"], row["kind"], windows=frozenset(row["windows"] or []))

    def device_windows(self, device_id: str) -> frozenset[str]:
        """Windows a device id may command, from the config and from `hallq token create` (revoked
        tokens not counted)."""
        windows: set[str] = set()
        for digest, credential in self._config_devices.items():
            if credential.id == device_id and not self.credentials.token_revoked(digest):
                windows.update(credential.windows)
        windows.update(self.credentials.device_windows(device_id) or [])
        return frozenset(windows)

    def device_kind(self, device_id: str) -> str:
        """The device's kind from its credentials; `unknown` for a device that has none (it may do nothing
        a kind allows). A device with credentials of several kinds counts as the first one configured."""
        for digest, credential in self._config_devices.items():
            if credential.id == device_id and not self.credentials.token_revoked(digest):
                return credential.kind.value
        kinds = self.credentials.device_kinds(device_id)
        return kinds[0] if kinds else "unknown"

    def device_principal(self, device_id: str) -> Principal:
        """A device already authenticated elsewhere (the broker), acting with its configured kind and windows."""
        return Principal(
            "device",
            device_id,
            self.device_kind(device_id),
            windows=self.device_windows(device_id),
            home=self._device_home.get(device_id),
        )

    # ---- clerk login ------------------------------------------------------------------------------

    def check_password(self, username: str, password: str) -> dict[str, Any] | None:
        """The user's record if the password verifies (database users first, then the config)."""
        record, password_hash = self._user_record(username)
        verified = _verify_or_dummy(password_hash, password)
        return record if verified and record is not None else None

    def _user_record(self, username: str) -> tuple[dict[str, Any] | None, str | None]:
        row = self.credentials.user(username)
        if row is not None:
            return row, row["password_hash"]
        configured = self._config_users.get(username)
        if configured is None:
            return None, None
        record = {"username": configured.username, "role": configured.role.value,
                  "display_name": configured.display_name, "home": self._user_home[username]}  # fmt: skip
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
        if record is not None and hall is not None and record.get("home") not in (None, hall):
            record, password_hash = None, None  # a user of another hall: answered like an unknown name
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
            home=user.get("home"),
        )
        if window is not None:
            self._forget(self._sessions_on(hall, window))
        self.credentials.add_session(
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
                self._verified.pop(digest, None)
        self.credentials.end_sessions(digests)


def _session_principal(row: dict[str, Any], home: str | None) -> Principal:
    return Principal(
        "user",
        row["username"],
        row["role"],
        display_name=row["display_name"],
        hall=row["hall"],
        window=row["window"],
        home=home,
    )
