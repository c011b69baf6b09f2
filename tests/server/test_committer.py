"""The group commits' threads (server/committer.py): a result or an error comes back to the awaiting
coroutine; one thread runs its jobs in the order given; a job whose waiter was cancelled is finished
and dropped; stopping lets the queued jobs finish."""

from __future__ import annotations

import asyncio
import threading

import pytest

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
