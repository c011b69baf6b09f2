"""Board payloads for the display tests, shaped like the demo hall's."""

from __future__ import annotations

import datetime as dt

from hallq.contract import BoardCall, BoardSnapshot, BoardWaiting, BoardWindow, CallMessage

T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in the hall
SERVICES = {
    "A": "社保业务",
    "B": "医保业务",
    "C": "不动产登记",
    "D": "房地产交易",
    "E": "户籍业务",
    "F": "车驾管业务",
    "G": "婚姻登记",
    "H": "民政残联",
    "J": "企业开办",
    "K": "税务业务",
    "L": "卫生许可",
    "Q": "综合出件",
}
ZONE_1F = ["1", "2", "3", "4", "5"]


def snapshot(
    seq: int = 10,
    at: dt.datetime = T0,
    serving: dict[str, str] | None = None,
    paused: dict[str, str] | None = None,
    calls: list[tuple[str, str, int]] | None = None,
    waiting: dict[str, tuple[int, int]] | None = None,
    notice: str = "请持号码等候叫号；60岁以上老人请走绿色通道。",
    windows: int = 12,
) -> BoardSnapshot:
    """`calls` is [(ticket, window, seconds before `at`)], newest first."""
    serving = serving or {}
    paused = paused or {}
    rows = []
    for n in range(1, windows + 1):
        w = str(n)
        if w in paused:
            rows.append(BoardWindow(window=w, name=f"{w}号窗口", state="paused", ticket=None, reason=paused[w]))
        else:
            rows.append(BoardWindow(window=w, name=f"{w}号窗口", state="open", ticket=serving.get(w)))
    recent = [
        BoardCall(ticket=t, window=w, window_name=f"{w}号窗口", service=t[0], at=at - dt.timedelta(seconds=ago))
        for t, w, ago in (calls or [])
    ]
    counts = waiting or {code: (i % 5, (i % 5) * 420) for i, code in enumerate(SERVICES)}
    return BoardSnapshot(
        seq=seq,
        at=at,
        recent_calls=recent,
        windows=rows,
        waiting={code: _waiting(code, *counts.get(code, (0, 0))) for code in SERVICES},
        notice=notice,
    )


def _waiting(code: str, count: int, est_wait_s: int) -> BoardWaiting:
    return BoardWaiting(name=SERVICES[code], count=count, est_wait_s=est_wait_s)


def call(seq: int, ticket: str, window: str, at: dt.datetime = T0, kind: str = "call") -> CallMessage:
    return CallMessage(
        seq=seq,
        type=kind,  # type: ignore[arg-type]
        ticket=ticket,
        window=window,
        window_name=f"{window}号窗口",
        service=ticket[0],
        service_name=SERVICES.get(ticket[0], ticket[0]),
        at=at,
        announce=f"请{ticket}号到{window}号窗口办理",
    )
