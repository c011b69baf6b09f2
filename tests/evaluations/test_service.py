"""The evaluation service on SQLite and PostgreSQL: the rating window, 一次一评 under a race, the
phone kept as a mask and an HMAC, and a step the order has passed."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from hallq.config import example_config_path, load_hall_config
from server.engine.model import Ticket
from server.engine.states import Status
from server.evaluations import tables as et
from server.evaluations.service import Actor, AlreadyRated, EvaluationError, EvaluationService, RatedService
from server.evaluations.workflow import IllegalOrderAction
from server.store import Store, schema
from server.store.codec import ticket_row

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)  # Monday 11:00 in the hall
SUPERVISOR = Actor("user:supervisor", "supervisor")


@pytest.fixture
def service(database: str) -> Iterator[EvaluationService]:
    store = Store(database)
    store.migrate()
    yield EvaluationService(store.engine, load_hall_config(example_config_path()), b"k" * 32)
    store.close()


def served(ticket_id: str = "t1", served_at: dt.datetime = NOW) -> RatedService:
    return RatedService("ticket", ticket_id, "A001", "1", "clerk1", "A", "A", "社保业务", served_at)


def rate(service: EvaluationService, rated: RatedService, score: int = 1, now: dt.datetime = NOW,
         phone: str | None = None) -> dict[str, Any]:  # fmt: skip
    return service.rate(rated, score=score, reasons=[], comment="", channel="qr", contact_phone=phone, now=now)


def test_a_rating_after_the_window_days_is_refused(service: EvaluationService) -> None:
    old = served(served_at=NOW - dt.timedelta(days=7, minutes=1))
    with pytest.raises(EvaluationError, match="评价期限已过"):
        rate(service, old)
    assert rate(service, served("t2", NOW - dt.timedelta(days=6, hours=23)))["is_bad"] is True


def test_two_ratings_racing_for_one_ticket_leave_one(service: EvaluationService) -> None:
    results: list[str] = []
    start = threading.Barrier(4)

    def attempt() -> None:
        start.wait()
        try:
            rate(service, served())
            results.append("rated")
        except AlreadyRated:
            results.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["rated", "refused", "refused", "refused"]
    with service.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(et.rectifications)).scalar_one() == 1


def test_the_phone_is_kept_as_a_mask_and_an_hmac_only(service: EvaluationService) -> None:
    first = rate(service, served("t1"), phone="13912345678")["rectification"]["evaluation"]
    rate(service, served("t2"), phone="13912345678")
    assert first["masked_phone"] == "139****5678" and first["real_name"]
    with service.engine.connect() as conn:
        rows = conn.execute(sa.select(et.ratings).order_by(et.ratings.c.subject_id)).all()
    assert rows[0].phone_hmac == rows[1].phone_hmac, "the same number is found again (回访 look-up)"
    assert all("13912345678" not in repr(r._mapping) for r in rows)
    anonymous = rate(service, served("t3"))["rectification"]["evaluation"]
    assert anonymous["real_name"] is False and anonymous["masked_phone"] == ""


def test_a_step_the_order_has_passed_is_refused_naming_its_state(service: EvaluationService) -> None:
    order = rate(service, served())["rectification"]
    service.act(order["id"], "verify", SUPERVISOR, NOW, text="属实")
    with pytest.raises(IllegalOrderAction, match="已核实"):
        service.act(order["id"], "verify", Actor("user:admin", "admin"), NOW, text="也属实")
    history = service.order(order["id"], NOW)["history"]
    assert [h["action"] for h in history] == ["open", "verify"]


def test_the_order_shows_the_rated_ticket_s_waiting_and_service_time(service: EvaluationService) -> None:
    issued = NOW - dt.timedelta(minutes=40)
    ticket = Ticket(
        id="t1", access="k", number="A001", service="A", priority="normal", day=issued.date(), issued_at=issued,
        queue_pos=1, status=Status.done, window="1", clerk="clerk1", first_called_at=issued + dt.timedelta(
            minutes=25), called_at=issued + dt.timedelta(minutes=31), finished_at=NOW - dt.timedelta(seconds=30),
    )  # fmt: skip
    with service.engine.begin() as conn:  # the queue's own row, as the runtime commits it
        conn.execute(schema.tickets.insert().values(hall="demo", updated_at=NOW, **ticket_row(ticket)))
    times = rate(service, served("t1"))["rectification"]["times"]
    assert (times["wait_s"], times["service_s"]) == (25 * 60, 9 * 60 - 30), "first call − issue; finish − last call"
    assert times["issued_at"] == issued and times["finished_at"] == ticket.finished_at
    assert rate(service, served("gone"))["rectification"]["times"] is None, "a ticket the store no longer has"


def test_ratings_and_steps_made_at_once_are_numbered_for_the_feed_without_gap_or_repeat(
    service: EvaluationService,
) -> None:
    """Eight citizens rate and a supervisor verifies an order at the same moment: every change takes the
    next feed seq in the hall (no gap, no repeat) and no transaction waits on another for ever."""
    first = rate(service, served("t0"))
    failures: list[BaseException] = []

    def attempt(target: Any, *args: Any) -> None:
        start.wait()  # all nine at once
        try:
            target(*args)
        except BaseException as exc:  # collected: the assertion below names it
            failures.append(exc)

    order = first["rectification"]["id"]
    jobs = [(rate, service, served(f"t{i}"), 1 + i % 5) for i in range(1, 9)]
    jobs.append((service.act, order, "verify", SUPERVISOR, NOW))
    threads = [threading.Thread(target=attempt, args=job) for job in jobs]
    start = threading.Barrier(len(threads))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    with service.engine.connect() as conn:
        seqs = conn.execute(sa.select(et.rating_outbox.c.seq).order_by(et.rating_outbox.c.seq)).scalars().all()
        head = conn.execute(sa.select(et.rating_feed.c.last_seq)).scalar_one()
    assert seqs == list(range(1, 11)) and head == 10  # the first rating, eight more, one step


@pytest.mark.parametrize("score", [5, 1])
def test_a_new_ratings_feed_record_is_the_record_its_stored_rows_make(service: EvaluationService, score: int) -> None:
    """The first record is made from the rows as written (no re-read, issue 18): it must be the one the
    stored rows give, which is how every later revision is made."""
    from server.evaluations.records import record_of

    rating = service.rate(served(), score=score, reasons=[], comment=" 窗口 ", channel="qr",
                          contact_phone="13912345678", now=NOW)  # fmt: skip
    with service.engine.connect() as conn:
        stored = conn.execute(sa.select(et.rating_outbox)).one()
        as_stored = service.rating_view(service._rating_row(conn, rating["id"]))
        expected = record_of(as_stored, service._order_of(conn, rating["id"]), service.rules, service.config.hall.tz())
    assert (stored.revision, stored.seq) == (0, 1)
    assert stored.record == {**expected, "follows": ""}
    assert (stored.record["rectifyresult"] == "") == (score == 5)
