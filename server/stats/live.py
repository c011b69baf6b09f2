"""The hall right now, from the live engine under the hall's lock: per service waiting, the longest
wait, open windows; per window its state and for how long; and the alerts a supervisor acts on
(DESIGN §12, the 动态调整 of the seeds): a wait over the service's target, a window paused too long,
too many waiting per open window (请增开窗口). Thresholds: the hall config's `stats` section."""

from __future__ import annotations

import datetime as dt

from hallq.config import HallConfig
from hallq.stats_models import Alert, LiveAnswer, LiveService, LiveWindow
from server.engine.hall import HallEngine
from server.runtime import Dispatcher, utcnow


async def live_stats(dispatcher: Dispatcher, hall: str, now: dt.datetime | None = None) -> LiveAnswer:
    runtime = dispatcher.runtime(hall)
    async with runtime.lock:
        return live_answer(runtime.config, runtime.live(), now or utcnow())


def live_answer(config: HallConfig, engine: HallEngine, now: dt.datetime) -> LiveAnswer:
    windows = [_window(engine, w.id, now) for w in config.windows]
    open_ids = {w.window for w in windows if w.state == "open"}
    services = []
    for service in config.services:
        oldest = engine.oldest_waiting(service.code)
        services.append(
            LiveService(
                service=service.code,
                name=service.name,
                waiting=engine.waiting_count(service.code),
                longest_wait_s=max(0, round((now - oldest.issued_at).total_seconds())) if oldest else 0,
                open_windows=sum(1 for w in engine.rules.windows_serving(service.code) if w in open_ids),
                target_wait_s=config.target_wait_s(service.code),
            )
        )
    alerts = [a for s in services for a in _service_alerts(config, s)]
    alerts += [a for w in windows if (a := _pause_alert(config, w)) is not None]
    return LiveAnswer(hall=config.hall.id, at=now, services=services, windows=windows, alerts=alerts)


def _window(engine: HallEngine, window_id: str, now: dt.datetime) -> LiveWindow:
    status = engine.window(window_id)
    assert status is not None  # the engine has every window of the config
    since = status.changed_at
    return LiveWindow(
        window=window_id,
        name=status.name,
        state=status.state.value,
        since_s=max(0, round((now - since).total_seconds())) if since else None,
    )


def _service_alerts(config: HallConfig, service: LiveService) -> list[Alert]:
    alerts = []
    if service.longest_wait_s > service.target_wait_s:
        waited, target = service.longest_wait_s // 60, service.target_wait_s // 60
        alerts.append(
            Alert(
                kind="wait_over_target",
                service=service.service,
                text=f"{service.name}最长已等候{waited}分钟，超过目标{target}分钟。"
                f" {service.service}: the longest wait is {waited} min, over the {target} min target.",
            )
        )
    threshold = config.stats.waiting_per_window_alert
    if service.waiting and (service.open_windows == 0 or service.waiting / service.open_windows > threshold):
        per_window = f"{service.waiting}人等候、没有开放窗口" if service.open_windows == 0 else (
            f"每个开放窗口约{service.waiting / service.open_windows:.0f}人等候"
        )  # fmt: skip
        alerts.append(
            Alert(
                kind="open_another_window",
                service=service.service,
                text=f"{service.name}{per_window}，请增开窗口。 {service.service}: {service.waiting} waiting for"
                f" {service.open_windows} open window(s) (more than {threshold} each): open another window.",
            )
        )
    return alerts


def _pause_alert(config: HallConfig, window: LiveWindow) -> Alert | None:
    limit_s = config.stats.pause_alert_min * 60
    if window.state != "paused" or window.since_s is None or window.since_s <= limit_s:
        return None
    minutes = window.since_s // 60
    return Alert(
        kind="window_paused",
        window=window.window,
        text=f"{window.name}已暂停服务{minutes}分钟（超过{config.stats.pause_alert_min}分钟）。"
        f" Window {window.window} has been paused for {minutes} min.",
    )
