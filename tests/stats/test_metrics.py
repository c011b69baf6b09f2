"""`GET /metrics`: Prometheus text with counters per hall and service (from the folding) and the
live gauges; no personal data in it."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from tests.stats.scenario import folded, hall_app, the_day


def test_metrics_count_the_day_per_service(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (client, app, hall):
            await the_day(hall)
            await folded(app)
            answer = await client.get("http://hall/metrics")
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
            samples = {
                (s.name, s.labels.get("service"), s.labels.get("kind")): s.value
                for family in text_string_to_metric_families(answer.text)
                for s in family.samples
                if s.labels.get("hall") == "demo"
            }
            assert samples[("hallq_tickets_issued_total", "A", None)] == 5
            assert samples[("hallq_tickets_issued_total", "B", None)] == 3
            assert samples[("hallq_tickets_served_total", "B", None)] == 3
            assert samples[("hallq_tickets_expired_total", "A", None)] == 1
            assert samples[("hallq_wait_seconds_total", "B", None)] == 900 + 2760 + 1860
            assert samples[("hallq_waiting", "A", None)] == 0  # the day is closed
            assert samples[("hallq_open_windows", "A", None)] == 0
            assert samples[("hallq_alerts", None, "open_another_window")] == 0
            assert "clerk1" not in answer.text and "clerk=" not in answer.text  # staff ids stay out too

    asyncio.run(main())
