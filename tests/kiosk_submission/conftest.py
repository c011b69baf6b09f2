from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.api import DispatcherClient
from kiosk.identity import CardIdentity, demo_identity
from kiosk.submission.documents import Page, generate_page
from kiosk.submission.presenter import SubmissionOptions, SubmissionPresenter
from kiosk.submission.state import DraftStore
from tests.kiosk.fakes import InlineTasks

CLERK_WINDOW = "1"


@pytest.fixture(scope="package")
def dispatcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.support.dispatcher import start_dispatcher

    d = start_dispatcher(tmp_path_factory.mktemp("submission-dispatcher"))
    yield d
    d.terminate()


class Home:
    """What the main presenter's home screen is, for the flow: somewhere it hands back to."""


class GeneratedSource:
    """A document source that answers a tap at once with a generated page (JPEG, then PDF …)."""

    hint = "测试扫描"
    can_request = True

    def __init__(self) -> None:
        self.on_page: Callable[[Page], None] | None = None
        self.count = 0
        self.watching = False

    def start(self, on_page: Callable[[Page], None], on_error: Callable[[str], None]) -> None:
        self.on_page, self.watching = on_page, True

    def request(self, label: str) -> None:
        self.count += 1
        kind = "pdf" if self.count % 2 == 0 else "jpg"
        assert self.on_page is not None
        self.on_page(Page(generate_page(label, self.count, kind), "application/pdf" if kind == "pdf" else "image/jpeg"))

    def stop(self) -> None:
        self.watching = False


class Host:
    """The kiosk's main presenter as the submission flow sees it (kiosk/presenter.py implements it)."""

    def __init__(self, client: DispatcherClient) -> None:
        self.hall = client.hall_info()
        self.citizen: CardIdentity | None = None
        self.current: Any = Home()
        self.shown: list[Any] = []
        self.tickets: list[str] = []
        self.delegate: SubmissionPresenter | None = None

    def show_view(self, view: Any, speak: bool = True) -> None:
        self.current = view
        self.shown.append(view)

    def choose_service(self, code: str) -> None:
        self.tickets.append(code)

    def go_home(self) -> None:
        self.current = Home()
        if self.delegate is not None:
            self.delegate.left()


class Harness:
    def __init__(self, dispatcher: Any, state: Path, *, server: str | None = None, name: str = "sub") -> None:
        from hardware.sim import get_simulator
        from kiosk.hardware_adapters import EscposPrinter
        from kiosk.submission.devices import EscposReceiptPrinter, HardwareLocker

        self.dispatcher = dispatcher
        self.client = DispatcherClient(
            server or dispatcher.url, "demo", dispatcher.headers, sleep=lambda _s: None, timeout=3.0
        )
        real = DispatcherClient(dispatcher.url, "demo", dispatcher.headers)
        self.host = Host(real)
        real.close()
        self.tasks = InlineTasks()
        self.clock = 1000.0
        self.source = GeneratedSource()
        self.printer_sim: Any = get_simulator("printer", name)
        self.printer_sim.clear_faults()
        self.locker = HardwareLocker(f"sim:{name}")
        self.drafts = DraftStore(state)
        self.presenter = SubmissionPresenter(
            self.host,
            self.client,
            self.tasks,
            lambda action: action(),
            printer=EscposReceiptPrinter(EscposPrinter(f"sim:{name}")),
            documents=self.source,
            locker=self.locker,
            drafts=self.drafts,
            options=SubmissionOptions(),
            monotonic=lambda: self.clock,
        )
        self.host.delegate = self.presenter

    @property
    def view(self) -> Any:
        return self.host.current

    def server_case(self, case_id: str) -> dict[str, Any]:
        clerk = {"Authorization": f"Bearer {self.dispatcher.login('clerk1', window=CLERK_WINDOW)}"}
        reply = httpx.get(f"{self.dispatcher.api}/halls/demo/cases/{case_id}", headers=clerk)
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()
        return data


def citizen() -> CardIdentity:
    return demo_identity("欧阳小明", 34, dt.date.today())


@pytest.fixture
def harness(dispatcher: Any, tmp_path: Path) -> Iterator[Harness]:
    h = Harness(dispatcher, tmp_path / "state" / "submission.json")
    yield h
    h.presenter.stop()
    h.client.close()
