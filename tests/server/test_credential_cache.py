"""The cache of confirmed tokens (server/auth.py): a token the store confirmed is answered from memory,
never past the recheck bound after another process revoked it, and at once when this process did.
The bound is shown with a clock the test moves (no timed asserts); the PostgreSQL test runs two real
dispatchers on one database and waits for the refusal with a deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.auth import RECHECK_S, Authenticator, Unauthorized, new_token, sha256_hex
from server.store import CredentialStore, Store
from tests.server.conftest import demo_config
from tests.server.test_process import _hallq
from tests.support.dispatcher import DEMO_TOKEN, start_dispatcher

REFUSED_DEADLINE_S = 30.0  # far above RECHECK_S: a loaded machine must not fail the test


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    store = Store(database)
    store.migrate()
    yield store
    store.close()


def test_a_token_revoked_elsewhere_is_refused_once_the_bound_has_passed(store: Store) -> None:
    clock = Clock()
    auth = Authenticator(CredentialStore(store.engine), [demo_config()], 8.0, recheck_s=RECHECK_S, clock=clock)
    token = new_token()
    auth.credentials.add_device_token("keypad-9", "keypad_bridge", sha256_hex(token), ["3"])
    assert auth.cached(token) is None, "nothing confirmed yet"
    assert auth.authenticate(token).name == "keypad-9"
    assert auth.cached(token) is not None

    # another process revokes it (its own CredentialStore: this one's listeners hear nothing)
    assert CredentialStore(store.engine).revoke_device("keypad-9") == 1
    clock.now += RECHECK_S * 0.5
    assert auth.cached(token) is not None, "within the bound the cache may still answer"
    clock.now += RECHECK_S * 0.5
    assert auth.cached(token) is None, "at the bound the cache no longer answers"
    with pytest.raises(Unauthorized):
        auth.authenticate(token)  # reads the moved generation, asks the store: revoked
    assert auth.cached(token) is None


def test_a_revocation_through_this_process_drops_the_cache_at_once(store: Store) -> None:
    clock = Clock()
    auth = Authenticator(CredentialStore(store.engine), [demo_config()], 8.0, clock=clock)
    token = new_token()
    auth.credentials.add_device_token("keypad-9", "keypad_bridge", sha256_hex(token), ["3"])
    auth.authenticate(token)
    assert auth.cached(DEMO_TOKEN) is None and auth.authenticate(DEMO_TOKEN).name == "demo-device"
    auth.credentials.revoke_device("keypad-9")  # the clock has not moved
    assert auth.cached(token) is None
    assert auth.cached(DEMO_TOKEN) is None, "the whole cache goes: the next request asks the store"
    with pytest.raises(Unauthorized):
        auth.authenticate(token)
    assert auth.authenticate(DEMO_TOKEN).name == "demo-device"


def test_a_verification_overtaken_by_a_revocation_is_not_kept(store: Store) -> None:
    """The store answered "valid" just before the revocation committed: that answer must not be cached
    after the cache was dropped, or it would outlive the revocation."""
    auth = Authenticator(CredentialStore(store.engine), [demo_config()], 8.0, clock=Clock())
    token = new_token()
    auth.credentials.add_device_token("keypad-9", "keypad_bridge", sha256_hex(token), ["3"])
    real_device = auth._device

    def device_then_revoked(digest: str):  # type: ignore[no-untyped-def]
        principal = real_device(digest)
        auth.credentials.revoke_device("keypad-9")  # commits between the check and the caching
        return principal

    auth._device = device_then_revoked  # type: ignore[method-assign]
    assert auth.authenticate(token).name == "keypad-9"
    assert auth.cached(token) is None


def _refused(url: str, headers: dict[str, str]) -> httpx.Response:
    """GET `url` until it is refused (401), up to a deadline; the last answer."""
    deadline = time.monotonic() + REFUSED_DEADLINE_S
    while True:
        answer = httpx.get(url, headers=headers, timeout=10)
        if answer.status_code == 401 or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


@pytest.mark.pg
def test_revoked_on_one_dispatcher_refused_on_the_other_on_postgresql(tmp_path: Path) -> None:
    from tests.server.conftest import fresh_pg_database

    with fresh_pg_database() as database:
        first = start_dispatcher(tmp_path / "a", database=database)
        second = None
        try:
            clerk = {"Authorization": f"Bearer {first.login('clerk1', window='1')}"}
            second = start_dispatcher(tmp_path / "b", database=database, standby=True)  # loads the session
            device = {"Authorization": f"Bearer {DEMO_TOKEN}"}
            for dispatcher in (first, second):  # both confirm and cache both tokens
                for headers in (clerk, device):
                    for _ in range(3):
                        assert httpx.get(f"{dispatcher.api}/auth/me", headers=headers, timeout=10).status_code == 200

            assert httpx.post(f"{first.api}/auth/logout", headers=clerk, timeout=10).status_code == 200
            assert httpx.get(f"{first.api}/auth/me", headers=clerk, timeout=10).status_code == 401, "at once here"
            assert _refused(f"{second.api}/auth/me", clerk).status_code == 401, "within the bound there"

            revoked = _hallq("token", "revoke", "demo-device", "--demo", "--database", database)
            assert revoked.returncode == 0, revoked.stderr
            for dispatcher in (first, second):
                assert _refused(f"{dispatcher.api}/auth/me", device).status_code == 401
        finally:
            first.kill()
            if second is not None:
                second.kill()
