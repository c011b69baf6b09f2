"""`hallq stats rebuild` recomputes the roll-ups from the events and gives the same numbers, even
while the server runs and folds (the cursor's compare-and-set lets each event count once)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest
import yaml

from server.cli import register_stats
from server.stats import rollups
from server.stats.rollups import fold_all, rebuild
from server.stats.tables import stats_cursor, stats_daily, stats_hourly, stats_tickets
from tests.stats.scenario import SHANGHAI, folded, hall_app, login, small_hall, the_day
from tests.stats.test_scenario import EXPECTED, TOTALS, WITH_CASES, stats


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hallq")
    register_stats(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_the_rebuild_command_gives_the_same_numbers_while_the_server_runs(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "hall.yaml"
    config_file.write_text(yaml.safe_dump(small_hall().model_dump(mode="json"), allow_unicode=True), "utf-8")

    async def main() -> None:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            await folded(app)
            supervisor = await login(client, "supervisor")
            before = {by: await stats(client, supervisor, by=by) for by in EXPECTED}
            argv = ["stats", "rebuild", "--config", str(config_file), "--database", database, "--demo"]
            rebuilding = asyncio.to_thread(run_cli, argv)
            await hall.issue("13:00:00", "B")  # the server folds this one while the rebuild runs
            assert await rebuilding == 0
            await folded(app)
            after = {by: await stats(client, supervisor, by=by) for by in EXPECTED}
            assert after["service"]["total"] == {**WITH_CASES, "issued": 9}
            assert after["window"]["rows"][:2] == before["window"]["rows"][:2]
            assert after["hour"]["rows"][:4] == before["hour"]["rows"]
            assert after["hour"]["rows"][4]["key"] == "13" and after["hour"]["rows"][4]["issued"] == 1

    asyncio.run(main())
    assert "hall demo:" in capsys.readouterr().out


def test_folders_racing_on_one_hall_count_every_event_once(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            store = app.state.dispatcher.store
            await asyncio.to_thread(rebuild, store, "demo", SHANGHAI)  # a first full fold
            with store.engine.begin() as conn:  # forget the numbers, keep the cursor at 0: all to fold again
                for table in (stats_hourly, stats_daily, stats_tickets, stats_cursor):
                    conn.execute(table.delete())
            racing = [asyncio.to_thread(fold_all, store, "demo", SHANGHAI, None) for _ in range(3)]
            folded_counts = await asyncio.gather(*racing)
            await folded(app)  # and the server's own folder
            assert sum(folded_counts) <= store.last_seq("demo")
            supervisor = await login(client, "supervisor")
            for by, rows in EXPECTED.items():
                body = await stats(client, supervisor, by=by)
                assert body["rows"] == rows and body["total"] == TOTALS[by], by

    asyncio.run(main())


def test_a_fold_that_dies_before_its_commit_counts_nothing_and_the_next_counts_once(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            store = app.state.dispatcher.store
            await asyncio.to_thread(app.state.stats_folder.stop)  # only this test folds from here on
            with store.engine.begin() as conn:
                for table in (stats_hourly, stats_daily, stats_tickets, stats_cursor):
                    conn.execute(table.delete())

            def crash(*_args: object) -> None:
                raise OSError("killed mid-transaction")

            with monkeypatch.context() as patch:  # the cursor moved and the rows written, then the end
                patch.setattr(rollups, "_save_tickets", crash)
                with pytest.raises(OSError):
                    await asyncio.to_thread(fold_all, store, "demo", SHANGHAI)
            assert rollups.folded_seq(store, "demo") == 0
            assert await asyncio.to_thread(fold_all, store, "demo", SHANGHAI) == store.last_seq("demo")
            supervisor = await login(client, "supervisor")
            for by, rows in EXPECTED.items():
                body = await stats(client, supervisor, by=by)
                assert body["rows"] == rows and body["total"] == TOTALS[by], by

    asyncio.run(main())


def test_the_workers_fold_stops_at_what_was_committed_when_it_read(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folding workers (chase=False) fold what was committed when they read, batch after full batch,
    and leave what commits meanwhile to their next pass; a rebuild (chase) folds to the very end."""

    async def main() -> None:
        async with hall_app(database) as (_client, app, hall):
            await the_day(hall)
            store = app.state.dispatcher.store
            await asyncio.to_thread(app.state.stats_folder.stop)  # only this test folds from here on
            with store.engine.begin() as conn:
                for table in (stats_hourly, stats_daily, stats_tickets, stats_cursor):
                    conn.execute(table.delete())
            loop = asyncio.get_running_loop()
            committed = store.last_seq("demo")
            issued_meanwhile: list[str] = []

            def issue_during_the_last_batch(_hall: str, _cells: object) -> None:
                """Called after each batch: when it has folded what was committed, a citizen takes a ticket."""
                if not issued_meanwhile and rollups.folded_seq(store, "demo") >= committed:
                    issue = asyncio.run_coroutine_threadsafe(hall.issue("13:00:00", "B"), loop)
                    issued_meanwhile.append(issue.result(30))

            # the day's events in two full batches and a last one that is not full
            monkeypatch.setattr(rollups, "BATCH", committed // 3 + 1)
            worker_fold = await asyncio.to_thread(
                fold_all, store, "demo", SHANGHAI, issue_during_the_last_batch, chase=False
            )
            assert issued_meanwhile and store.last_seq("demo") > committed
            assert worker_fold == committed == rollups.folded_seq(store, "demo")
            issued_meanwhile.clear()
            committed = store.last_seq("demo")
            chased = await asyncio.to_thread(fold_all, store, "demo", SHANGHAI, issue_during_the_last_batch)
            assert issued_meanwhile, "a ticket was issued while this fold ran"
            assert rollups.folded_seq(store, "demo") == store.last_seq("demo") > committed
            assert chased == store.last_seq("demo") - worker_fold

    asyncio.run(main())
