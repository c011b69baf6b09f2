"""`GET /metrics` for Prometheus (prometheus-client): counters per hall and service, counted by the
statistics' folding as each batch of events commits (they start at 0 when the dispatcher starts, as
Prometheus counters do: `rate()` and `increase()` handle the reset), and gauges read from the live
engine under each hall's lock at scrape time. No personal data: codes and counts only."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from server.runtime import Dispatcher, utcnow
from server.stats.folding import Cell, CellKey
from server.stats.live import live_answer

CONTENT_TYPE = CONTENT_TYPE_LATEST
COUNTED = {  # roll-up counter → (metric name, help)
    "issued": ("hallq_tickets_issued", "Tickets issued"),
    "served": ("hallq_tickets_served", "Tickets served (finished at a window)"),
    "no_show": ("hallq_tickets_no_show", "Tickets marked no-show"),
    "cancelled": ("hallq_tickets_cancelled", "Tickets cancelled"),
    "expired": ("hallq_tickets_expired", "Tickets still waiting when the day closed"),
    "transferred": ("hallq_tickets_transferred", "Tickets transferred by a clerk"),
    "called": ("hallq_tickets_called", "First calls (waiting-time samples)"),
    "wait_sum_s": ("hallq_wait_seconds", "Sum of waiting times (issue to first call)"),
    "service_sum_s": ("hallq_service_seconds", "Sum of service times (call to finish)"),
}


class HallMetrics:
    """One registry per dispatcher (never the process-global one: tests start many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.counters = {
            name: Counter(metric, text, ("hall", "service"), registry=self.registry)
            for name, (metric, text) in COUNTED.items()
        }
        labels = ("hall", "service")
        self.waiting = Gauge("hallq_waiting", "Tickets waiting now", labels, registry=self.registry)
        self.longest = Gauge("hallq_longest_wait_seconds", "The longest wait now", labels, registry=self.registry)
        self.open = Gauge("hallq_open_windows", "Open windows serving the service", labels, registry=self.registry)
        self.alerts = Gauge("hallq_alerts", "Live alerts (statistics)", ("hall", "kind"), registry=self.registry)

    def count(self, hall: str, cells: dict[CellKey, Cell]) -> None:
        """Called by the folding worker after each committed batch."""
        for (_day, _hour, service, _window, _clerk), cell in cells.items():
            if not service:
                continue
            for name, amount in cell.counts.items():
                counter = self.counters.get(name)
                if counter is not None and amount:
                    counter.labels(hall, service).inc(amount)

    async def render(self, dispatcher: Dispatcher) -> bytes:
        for hall, runtime in dispatcher.halls.items():
            if not runtime.active or runtime.needs_restore:
                continue
            async with runtime.lock:
                live = live_answer(runtime.config, runtime.live(), utcnow())
            for service in live.services:
                self.waiting.labels(hall, service.service).set(service.waiting)
                self.longest.labels(hall, service.service).set(service.longest_wait_s)
                self.open.labels(hall, service.service).set(service.open_windows)
            for kind in ("wait_over_target", "window_paused", "open_another_window"):
                self.alerts.labels(hall, kind).set(sum(1 for a in live.alerts if a.kind == kind))
        return generate_latest(self.registry)
