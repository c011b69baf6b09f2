"""Logins cannot starve or probe the hall (issue 12), through HTTP: rate limits per client address and
per user name, a lock-out after wrong passwords, 429 with Retry-After and a sentence; an unknown
name costs one password check like a known one; the hashing runs in its own pool, so logins stuck
in it leave the store's threads to the kiosks."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

import server.auth
from server.settings import RequestLimits
from tests.server.conftest import DEMO, make_settings, running_app


def run(database: str, scenario: Any, **limits: Any) -> None:
    settings = make_settings(database).model_copy(update={"limits": RequestLimits(**limits)})

    async def main() -> None:
        async with running_app(settings) as (client, app):
            await scenario(client, app)

    asyncio.run(main())


def login(client: httpx.AsyncClient, username: str, password: str = "wrong-password") -> Any:
    return client.post("/auth/login", json={"username": username, "password": password})


def assert_too_many(reply: httpx.Response, words: str) -> None:
    assert reply.status_code == 429, reply.text
    assert int(reply.headers["Retry-After"]) >= 1
    assert words in reply.json()["detail"]


def test_per_user_name_limit_answers_429_with_retry_after(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        for _ in range(3):
            assert (await login(client, "clerk1", "demo")).status_code == 200
        assert_too_many(await login(client, "clerk1", "demo"), "Too many login attempts")
        assert (await login(client, "clerk2", "demo")).status_code == 200, "other names are not held up"

    run(sqlite_url, scenario, login_per_user="3/minute", login_per_address="100/minute")


def test_per_address_limit_counts_every_name(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        for name in ("clerk1", "clerk2", "nobody", "clerk3"):
            assert (await login(client, name)).status_code == 401
        assert_too_many(await login(client, "clerk4", "demo"), "Too many login attempts")

    run(sqlite_url, scenario, login_per_address="4/minute", login_per_user="100/minute")


def test_wrong_passwords_lock_a_name_known_or_not(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        for name in ("clerk1", "no-such-clerk"):
            for _ in range(3):
                assert (await login(client, name)).status_code == 401
            assert_too_many(await login(client, name, "demo"), "locked")
        assert (await login(client, "clerk2", "demo")).status_code == 200

    run(sqlite_url, scenario, lockout_failures=3)


def test_a_right_password_clears_the_failures(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        for _ in range(3):
            assert (await login(client, "clerk1")).status_code == 401
            assert (await login(client, "clerk1", "demo")).status_code == 200

    run(sqlite_url, scenario, lockout_failures=2)


def test_an_unknown_name_costs_one_password_check_like_a_known_one(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real = server.auth.verify_password

    def counting(password_hash: str, password: str) -> bool:
        checks.append(password_hash[:9])
        return real(password_hash, password)

    monkeypatch.setattr(server.auth, "verify_password", counting)

    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        known = await login(client, "clerk1")
        assert len(checks) == 1 and checks[-1].startswith("$argon2")
        unknown = await login(client, "nobody-of-that-name")
        assert len(checks) == 2 and checks[-1].startswith("$argon2"), "the unknown name was hashed too"
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())

    run(sqlite_url, scenario)


def test_logins_waiting_for_the_hasher_leave_the_store_to_the_kiosks(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight logins held inside the password check (more than the default thread pool's six threads
    on this machine): a kiosk still gets its ticket, a ninth login is told to come back."""
    release = threading.Event()
    entered = threading.Semaphore(0)
    hashing_threads: set[str] = set()
    real = server.auth.verify_password

    def held(password_hash: str, password: str) -> bool:
        hashing_threads.add(threading.current_thread().name)
        entered.release()
        release.wait(60)
        return real(password_hash, password)

    monkeypatch.setattr(server.auth, "verify_password", held)

    async def scenario(client: httpx.AsyncClient, app: Any) -> None:
        logins = [asyncio.create_task(login(client, f"clerk{n + 1}")) for n in range(8)]
        await asyncio.to_thread(entered.acquire)  # the first is inside the hasher
        try:
            while app.state.dispatcher.auth.throttle.waiting < 8:  # the other seven queue for it
                await asyncio.sleep(0.01)
            issue = client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
            ticket = await asyncio.wait_for(issue, 30)  # a bound against a hang, not a time asserted
            assert ticket.status_code == 201, ticket.text
            assert_too_many(await login(client, "clerk9"), "Too many logins at once")
        finally:
            release.set()
        assert [(await task).status_code for task in logins] == [401] * 8
        assert {name.split("_")[0] for name in hashing_threads} == {"hallq-argon2"}

    run(database, scenario, login_per_address="100/minute")
