"""`/docs` works on a hall's intranet (its Swagger UI files come from the package, not a CDN), and the
OpenAPI schema tells the truth about errors: every route documents `{detail: string}` for the
statuses the API answers with, FastAPI's list-shaped 422 schema is gone (issue 12)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from tests.server.conftest import DEMO, make_settings, running_app

ROOT = "http://hall"  # the app's root; the fixture's client has /api/v1 as its base
ERROR_STATUSES = {"401", "403", "404", "409", "413", "422", "429", "503"}


def run(database: str, scenario: Any) -> None:
    async def main() -> None:
        async with running_app(make_settings(database)) as (client, app):
            await scenario(client, app)

    asyncio.run(main())


def test_docs_reference_only_local_assets_and_they_are_served(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        for page in ("/docs", "/redoc"):
            html = (await client.get(ROOT + page)).text
            assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(
                r"""url: ?["']([^"']+)["']""", html
            )
            assert assets, html[:500]
            assert not [a for a in assets if "//" in a], f"{page} loads from another host: {assets}"
            assert "cdn" not in html.lower() and "fonts.googleapis" not in html
            for asset in assets:
                served = await client.get(ROOT + asset)
                assert served.status_code == 200 and len(served.content) > 100, asset
        bundle = re.search(r"""src=["']([^"']*swagger-ui-bundle\.js)["']""", (await client.get(ROOT + "/docs")).text)
        assert bundle is not None
        script = await client.get(ROOT + bundle.group(1))
        assert "javascript" in script.headers["content-type"] and b"SwaggerUIBundle" in script.content

    run(sqlite_url, scenario)


def test_every_route_documents_its_error_answers_as_a_sentence(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        schema = (await client.get(ROOT + "/openapi.json")).json()
        assert "HTTPValidationError" not in schema["components"]["schemas"]
        error = schema["components"]["schemas"]["ErrorAnswer"]
        assert error["properties"]["detail"]["type"] == "string" and error["required"] == ["detail"]
        operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
        assert len(operations) > 20
        for path, method, operation in operations:
            responses = operation["responses"]
            assert set(responses) >= ERROR_STATUSES, (method, path, sorted(responses))
            for status in ERROR_STATUSES:
                ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorAnswer"), (method, path, status, ref)

        refused = await client.post("/halls/demo/tickets", json={"service": 7}, headers=DEMO)
        assert refused.status_code == 422 and isinstance(refused.json()["detail"], str)

    run(sqlite_url, scenario)
