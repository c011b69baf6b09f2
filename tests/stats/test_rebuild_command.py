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
