"""The group commits' threads (server/committer.py): a result or an error comes back to the awaiting
coroutine; one thread runs its jobs in the order given; a job whose waiter was cancelled is finished
and dropped; stopping lets the queued jobs finish. A job may run on the event loop itself (SQLite's
commits) only while the threads have none and such runs stay quick."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import server.committer as committer_module
from server.committer import Committer


def test_results_and_errors_come_back_in_order_on_the_commit_thread() -> None:
    ran: list[tuple[int, str]] = []

    def job(n: int) -> int:
        ran.append((n, threading.current_thread().name))
        if n == 3:
            raise ValueError("the disk is full")
        return n * 10

    async def main() -> None:
        committer = Committer(1, name="test-commit")
        futures = [committer.submit(job, n) for n in range(5)]
        assert [await f for f in futures[:3]] == [0, 10, 20]
        with pytest.raises(ValueError, match="the disk is full"):
            await futures[3]
        assert await futures[4] == 40
        await asyncio.to_thread(committer.stop)

    asyncio.run(main())
    assert [n for n, _ in ran] == [0, 1, 2, 3, 4]
    assert {name for _, name in ran} == {"test-commit-0"}


def test_a_cancelled_waiter_does_not_stop_the_job_and_stop_waits_for_the_queue() -> None:
    release = threading.Event()
    finished: list[int] = []

    def held(n: int) -> int:
        release.wait(10)
        finished.append(n)
        return n

    async def main() -> None:
        committer = Committer(1)
        first = committer.submit(held, 1)
        second = committer.submit(held, 2)
        first.cancel()
        release.set()
        assert await second == 2
        queued = committer.submit(held, 3)
        await asyncio.to_thread(committer.stop)
        assert await queued == 3

    asyncio.run(main())
    assert finished == [1, 2, 3]


def test_several_threads_run_jobs_at_once() -> None:
    both_running = threading.Barrier(2, timeout=10)

    def meet(n: int) -> int:
        both_running.wait()  # only returns when two jobs run at the same time
        return n

    async def main() -> None:
        committer = Committer(2)
        assert await asyncio.gather(committer.submit(meet, 1), committer.submit(meet, 2)) == [1, 2]
        await asyncio.to_thread(committer.stop)

    asyncio.run(main())


def test_a_job_runs_here_only_while_nothing_is_on_the_threads_and_here_is_allowed() -> None:
    release = threading.Event()
    ran_on: list[str] = []

    def attempt() -> str:
        ran_on.append(threading.current_thread().name)
        return "committed"

    async def main() -> None:
        assert Committer(1).run_here(attempt) is None, "only where the committer allows it (SQLite)"
        committer = Committer(1, here=True)
        here = committer.run_here(attempt)
        assert here is not None and here.done() and here.result() == "committed"
        on_thread = committer.submit(release.wait, 10)
        assert committer.run_here(attempt) is None, "it must not overtake the job on the thread"
        release.set()
        await on_thread
        assert committer.run_here(attempt) is not None
        await asyncio.to_thread(committer.stop)

    asyncio.run(main())
    assert ran_on == [threading.main_thread().name] * 2


def test_a_declined_attempt_leaves_the_job_to_the_thread_and_an_error_comes_back_as_the_futures() -> None:
    def refused() -> None:
        raise ValueError("disk I/O error")

    async def main() -> None:
        committer = Committer(1, here=True)
        assert committer.run_here(lambda: None) is None  # e.g. another connection held the lock
        failed: asyncio.Future[None] | None = committer.run_here(refused)
        assert failed is not None
        with pytest.raises(ValueError, match="disk I/O error"):
            await failed

    asyncio.run(main())


def test_slow_runs_here_send_the_jobs_to_the_thread_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(committer_module.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(committer_module, "HERE_LIMIT_S", 0.0005)

    def slow() -> str:
        time.sleep(0.01)  # a slow disk
        return "committed"

    async def main() -> None:
        committer = Committer(1, here=True)
        assert committer.run_here(slow) is not None
        assert committer.run_here(lambda: "committed") is not None, "one slow run is not a slow disk"
        for _ in range(3):  # a few in a row are
            assert committer.run_here(slow) is not None
        assert committer.run_here(slow) is None
        clock[0] += committer_module.HERE_PAUSE_S - 1
        assert committer.run_here(slow) is None
        clock[0] += 1
        assert committer.run_here(lambda: "committed") is not None, "tried again after the pause"

    asyncio.run(main())
