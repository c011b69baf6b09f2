"""Halls of a city for the network tests: each a real `hallq server` (tests/support/dispatcher.py) on
the demo hall's config under its own id, kind and parent, shipping to a hub; traffic through its
HTTP API; its own events and numbers read back to compare with the hub's."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import httpx
import yaml

from hallq.config import example_config_path
from server.network.redact import shippable
from server.store import Store
from tests.support.dispatcher import Dispatcher
from tests.support.hub import Hub

WAIT_S = 300.0  # a deadline, not a speed: two backoffs (≤ 60 s each) may pass before a hall catches up
# A citizen's comment with a phone number and a full name: it must never reach the hub.
PERSONAL_COMMENT = "王大锤，电话13912345678，窗口态度很好"
SERVICES = ("A", "B", "H")  # served at windows 1-3
_keys = itertools.count(1)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Poll until `condition()` holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def local_days() -> tuple[str, str]:
    """A range of the halls' local days around now (Asia/Shanghai) that holds all of a test's traffic."""
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return (today - dt.timedelta(days=1)).isoformat(), (today + dt.timedelta(days=1)).isoformat()


class CityHall:
    """One hall: its config file, its dispatcher process, its database."""

    def __init__(self, root: Path, hall: str, *, name: str, kind: str, parent: str | None, database: str | None):
        self.hall = hall
        self.name = name
        self.kind = kind
        self.parent = parent
        self.workdir = root / hall
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database = database or f"sqlite:///{self.workdir / 'hallq.sqlite3'}"
        self.config_path = self.workdir / f"{hall}.yaml"
        data = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
        data["hall"].update({"id": hall, "name": name, "kind": kind, "parent": parent})
        # Outages in tests last seconds: retry within 2 s instead of waiting out a minute's backoff.
        data["network"] = {"retry_max_s": 2}
        self.config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        self.dispatcher: Dispatcher | None = None
        self._clerk_tokens: dict[str, str] = {}

    def start(self, hub_url: str, token: str) -> CityHall:
        self.dispatcher = self._dispatcher(self.workdir, hub_url, token).start()
        self._clerk_tokens.clear()
        return self

    def start_standby(self, hub_url: str, token: str) -> Dispatcher:
        """A second dispatcher on the hall's PostgreSQL database: it stands by (503) while the first
        holds the hall, and takes it over when the first dies."""
        workdir = self.workdir / "standby"
        workdir.mkdir(exist_ok=True)
        standby = self._dispatcher(workdir, hub_url, token)
        standby.accept_standby = True
        return standby.start()

    def take_over(self, standby: Dispatcher) -> None:
        """The standby is the hall's dispatcher from now on (once it answers as the writer)."""
        wait_until(
            lambda: httpx.get(f"{standby.api}/halls/{self.hall}/board", timeout=5).status_code == 200,
            f"the standby to take hall {self.hall} over",
        )
        self.dispatcher = standby
        self._clerk_tokens.clear()

    def _dispatcher(self, workdir: Path, hub_url: str, token: str) -> Dispatcher:
        # "=": a token may begin with "-", which argparse would take for an option
        args = ["--config", str(self.config_path), "--hub", hub_url, f"--hub-token={token}"]
        dispatcher = Dispatcher(workdir, mqtt_url=None, database=self.database, demo=True, extra_args=args)
        dispatcher.hall = self.hall
        return dispatcher

    @property
    def d(self) -> Dispatcher:
        assert self.dispatcher is not None
        return self.dispatcher

    # ---- traffic ----------------------------------------------------------------------------------

    def issue(self, service: str) -> dict[str, Any]:
        answer = httpx.post(
            f"{self.d.api}/halls/{self.hall}/tickets",
            json={"service": service, "channel": "kiosk"},
            headers={**self.d.headers, "Idempotency-Key": f"t{next(_keys)}"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        ticket: dict[str, Any] = answer.json()
        return ticket

    def clerk(self, window: str) -> dict[str, str]:
        if window not in self._clerk_tokens:
            self._clerk_tokens[window] = self.d.login(f"clerk{window}", window)
        return {"Authorization": f"Bearer {self._clerk_tokens[window]}"}

    def window_action(self, window: str, action: str) -> httpx.Response:
        return httpx.post(
            f"{self.d.api}/halls/{self.hall}/windows/{window}/{action}",
            headers={**self.clerk(window), "Idempotency-Key": f"w{next(_keys)}"},
            timeout=30,
        )

    def rate(self, ticket: dict[str, Any], score: int, comment: str | None) -> None:
        access = parse_qs(urlparse(ticket["status_url"]).query)["k"][0]
        answer = httpx.post(
            f"{self.d.api}/halls/{self.hall}/tickets/{ticket['id']}/evaluation",
            params={"k": access},
            json={"score": score, **({"comment": comment} if comment else {})},
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text

    def traffic(self, tickets: int) -> None:
        """A morning in small: tickets over three services, served at windows 1-3 (one no-show per
        round), every third served ticket rated (a 差评 with a personal comment among them)."""
        issued = [self.issue(SERVICES[n % len(SERVICES)]) for n in range(tickets)]
        by_id = {t["id"]: t for t in issued}
        served = 0
        for round_ in itertools.count():
            progressed = False
            for window in ("1", "2", "3"):
                called = self.window_action(window, "call-next")
                if called.status_code == 204:
                    continue
                assert called.status_code == 200, called.text
                progressed = True
                ticket_id = called.json()["ticket"]["id"]
                if round_ == 1 and window == "2":
                    assert self.window_action(window, "no-show").status_code == 200
                    continue
                assert self.window_action(window, "finish").status_code == 200
                served += 1
                if served % 3 == 0 and ticket_id in by_id:
                    bad = served % 9 == 0
                    self.rate(by_id[ticket_id], 1 if bad else 5, PERSONAL_COMMENT if bad else None)
            if not progressed:
                return

    # ---- what the hall itself holds -------------------------------------------------------------------

    def events(self) -> list[tuple[int, str, dict[str, Any], dt.datetime]]:
        """The hall's own events, as the uplink may ship them (redacted)."""
        return read_events(self.database, self.hall, redact=True)

    def last_seq(self) -> int:
        store = Store(self.database)
        try:
            return store.last_seq(self.hall)
        finally:
            store.close()

    def own_stats(self, start: str, end: str) -> dict[str, Any]:
        """GET /halls/{hall}/stats by day as its supervisor, once every event is folded."""
        headers = {"Authorization": f"Bearer {self.d.login('supervisor')}"}
        last = self.last_seq()
        answer: dict[str, Any] = {}

        def folded() -> bool:
            response = httpx.get(
                f"{self.d.api}/halls/{self.hall}/stats",
                params={"from": start, "to": end, "by": "day"},
                headers=headers,
                timeout=30,
            )
            assert response.status_code == 200, response.text
            answer.update(response.json())
            return int(answer["folded_seq"]) >= last

        wait_until(folded, f"hall {self.hall} to fold its events up to seq {last}")
        return answer


def read_events(database: str, hall: str, redact: bool = False) -> list[tuple[int, str, dict[str, Any], dt.datetime]]:
    store = Store(database)
    try:
        rows = store.events_since(hall, 0, 10_000_000)
    finally:
        store.close()
    return [(r.seq, r.kind, shippable(r.kind, r.payload) if redact else r.payload, r.created_at) for r in rows]


def shipped(hub: Hub, hall: CityHall) -> bool:
    """The hub holds every event of the hall and has counted them."""
    last = hall.last_seq()
    row = hub.halls()[hall.hall]
    return bool(row["acked_seq"] == last and row["folded_seq"] == last)


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    """A stats row without what only a hall has (its cases) or names it (key, label)."""
    return {k: v for k, v in row.items() if k not in ("key", "label", "cases", "queue_mean", "open_windows_mean")}
