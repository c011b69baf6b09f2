"""The pages' files: /office/stats and /office/live are served, the vendored ECharts comes from the
package (no CDN), and nothing but a .js or .css file directly in static/ or static/vendor/ is served."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.server.conftest import make_settings, running_app

ROOT = "http://hall"


def test_pages_and_vendored_scripts_are_served_and_nothing_else(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_app(make_settings(f"sqlite:///{tmp_path / 'hallq.sqlite3'}")) as (client, _app):
            for page, script in (("/office/stats", "/static/stats.js"), ("/office/live", "/static/live.js")):
                html = await client.get(ROOT + page)
                assert html.status_code == 200 and html.headers["cache-control"] == "no-store"
                assert script in html.text and "/static/staff.js" in html.text
            office = await client.get(ROOT + "/office")
            assert 'href="/office/stats"' in office.text and 'href="/office/live"' in office.text
            echarts = await client.get(ROOT + "/static/vendor/echarts.min.js")
            assert echarts.status_code == 200 and echarts.headers["content-type"].startswith("text/javascript")
            assert "Apache Software Foundation" in echarts.text[:1000] and len(echarts.content) > 500_000
            assert "max-age" in echarts.headers["cache-control"]
            refused = [
                "/static/vendor/echarts-LICENSE.txt",  # in the package, but only scripts and styles are served
                "/static/vendor/..",
                "/static/vendor/%2e%2e%2fstats.js",  # ../stats.js, encoded
                "/static/vendor/%2e%2e%2f%2e%2e%2froutes.py",
                "/static/%2e%2e%2f__init__.py",
                "/static/vendor/missing.js",
                "/static/vendor.js",
            ]
            for path in refused:
                answer = await client.get(ROOT + path)
                assert answer.status_code == 404, path

    asyncio.run(main())
