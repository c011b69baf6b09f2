"""The board snapshot shows the ticket a window is serving now, not the last one it called: a finished
ticket leaves the window's row, which the board then shows as 空闲 (docs/board.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from display.board.model import BoardModel
from hallq.contract import BoardSnapshot
from tests.server.conftest import DEMO, make_settings, running_app
from tests.server.test_api import clerk


def _row(board: dict[str, Any], window: str) -> dict[str, Any]:
    return next(w for w in board["windows"] if w["window"] == window)


def _board_status(board: dict[str, Any], window: str) -> str:
    """What the hall board's window row says for this snapshot."""
    model = BoardModel(hall_name="demo")
    model.apply_snapshot(BoardSnapshot.model_validate(board), dt.datetime.now(dt.UTC), authoritative=True)
    return next(row.status for row in model.view(dt.datetime.now(dt.UTC)).windows if row.window == window)


def test_a_finished_ticket_leaves_the_board_and_the_row_says_idle(database: str) -> None:
    async def main() -> None:
        async with running_app(make_settings(database)) as (client, _app):
            await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
            headers = await clerk(client, "1")
            assert (await client.post("/halls/demo/windows/1/call-next", headers=headers)).status_code == 200
            serving = (await client.get("/halls/demo/board")).json()
            assert _row(serving, "1")["ticket"] == "A001" and _board_status(serving, "1") == "办理中"

            assert (await client.post("/halls/demo/windows/1/finish", headers=headers)).status_code == 200
            board = (await client.get("/halls/demo/board")).json()
            window = (await client.get("/halls/demo/windows/1", headers=headers)).json()
            assert window["ticket"] is None
            assert _row(board, "1")["ticket"] is None, "the board agrees with GET /windows/1"
            assert _board_status(board, "1") == "空闲"

            await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
            await client.post("/halls/demo/windows/1/call-next", headers=headers)
            assert (await client.post("/halls/demo/windows/1/no-show", headers=headers)).status_code == 200
            missed = (await client.get("/halls/demo/board")).json()
            assert _row(missed, "1")["ticket"] is None and _board_status(missed, "1") == "空闲"

    asyncio.run(main())
