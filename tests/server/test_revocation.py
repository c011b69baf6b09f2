"""A credential taken away stops working (issue 12), on SQLite and PostgreSQL: a device token revoked
with `hallq token revoke` (one made by `hallq token create`, and one listed in the hall config), and
every login of a user whose password `hallq user add` resets. The commands run as an administrator runs
them, beside the running dispatcher: another process, so the dispatcher's cache of confirmed tokens
refuses them within its recheck bound (server/auth.py RECHECK_S), not necessarily on the next request;
a session ended through the dispatcher's own store is refused at once."""

from __future__ import annotations

import asyncio
import time

import httpx

from server.auth import new_token, sha256_hex
from server.usecases.windows import device_may_command
from tests.server.conftest import DEMO, make_settings, running_app
from tests.server.test_api import clerk
from tests.server.test_process import _hallq

REFUSED_DEADLINE_S = 30.0  # far above the bound: a loaded machine must not fail the test


async def refused(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> httpx.Response:
    """GET `path` until it is refused (401), up to a deadline; the last answer."""
    deadline = time.monotonic() + REFUSED_DEADLINE_S
    while True:
        answer = await client.get(path, headers=headers)
        if answer.status_code == 401 or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.05)


def test_revoked_tokens_and_reset_passwords_stop(database: str) -> None:
    async def main() -> None:
        async with running_app(make_settings(database)) as (client, app):
            dispatcher = app.state.dispatcher
            token = new_token()
            dispatcher.auth.credentials.add_device_token("keypad-9", "keypad_bridge", sha256_hex(token), ["3"])
            keypad = {"Authorization": f"Bearer {token}"}
            assert (await client.get("/halls/demo/windows/3", headers=keypad)).status_code == 200
            assert device_may_command(dispatcher, "demo", "keypad-9", None, "3")

            revoked = _hallq("token", "revoke", "keypad-9", "--demo", "--database", database)
            assert revoked.returncode == 0, revoked.stderr
            after = await refused(client, "/halls/demo/windows/3", keypad)
            assert after.status_code == 401 and "吊销" in after.json()["detail"]
            assert not device_may_command(dispatcher, "demo", "keypad-9", None, "3"), "nor over MQTT"

            # a device listed in the hall config: the config still lists it, the store says revoked
            assert (await client.get("/halls/demo/windows/1", headers=DEMO)).status_code == 200
            revoked = _hallq("token", "revoke", "demo-device", "--demo", "--database", database)
            assert revoked.returncode == 0 and "revoked 1" in revoked.stdout, revoked.stdout + revoked.stderr
            assert (await refused(client, "/halls/demo/windows/1", DEMO)).status_code == 401
            issue = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
            assert issue.status_code == 401
            assert not device_may_command(dispatcher, "demo", "demo-device", "demo-device-token", "1")
            assert not device_may_command(dispatcher, "demo", "demo-device", None, "1")

            # a password reset ends the user's logins, at once; the new password works
            old = await clerk(client, "2", username="clerk2")
            assert (await client.get("/auth/me", headers=old)).status_code == 200
            reset = _hallq("user", "add", "clerk2", "--password-stdin", "--demo", "--database", database,
                           stdin="a-new-secret-2\n")  # fmt: skip
            assert reset.returncode == 0, reset.stderr
            assert (await refused(client, "/auth/me", old)).status_code == 401
            assert (await client.post("/halls/demo/windows/2/open", headers=old)).status_code == 401
            login = {"username": "clerk2", "password": "a-new-secret-2", "window": "2"}
            assert (await client.post("/auth/login", json=login)).status_code == 200

    asyncio.run(main())


def test_logout_elsewhere_and_expired_rows_end_the_session(sqlite_url: str) -> None:
    """A session ended in the store by anyone (another dispatcher, an administrator) is refused."""

    async def main() -> None:
        async with running_app(make_settings(sqlite_url)) as (client, app):
            headers = await clerk(client, "1")
            assert (await client.get("/auth/me", headers=headers)).status_code == 200
            digest = sha256_hex(headers["Authorization"].split()[1])
            app.state.dispatcher.auth.credentials.end_sessions([digest])
            assert (await client.get("/auth/me", headers=headers)).status_code == 401

    asyncio.run(main())
