"""A schema-based fuzz of the real `hallq server` (SQLite) with schemathesis (issue 12): every operation
of /openapi.json, with generated valid and invalid inputs, as a kiosk (device token), a clerk logged
in to window 1 and a supervisor. Asserted: no 5xx, every status documented, every answer of the
documented content type and, where the route declares a response model, of its schema.

Bounded (FUZZ_EXAMPLES per operation, default 6) so it runs in about a minute or two; raise
HALLQ_FUZZ_EXAMPLES for a longer hunt."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.dispatcher import Dispatcher, start_dispatcher

FUZZ_EXAMPLES = int(os.environ.get("HALLQ_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Logging out would end the clerk's and the supervisor's sessions for every operation after it.
SKIPPED = {("POST", "/api/v1/auth/logout")}


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dispatcher, dict[str, dict[str, str]]]]:
    # Generous login limits: the fuzzer's own logins must not lock the names it logs in with.
    env = {"HALLQ_LOGIN_PER_ADDRESS": "100000/minute", "HALLQ_LOGIN_PER_USER": "100000/minute"}
    dispatcher = start_dispatcher(tmp_path_factory.mktemp("fuzz"), env=env)
    try:
        supervisor = dispatcher.login("supervisor")
        principals = {
            "device": dispatcher.headers,
            "clerk": dispatcher.clerk_headers("1"),
            "supervisor": {"Authorization": f"Bearer {supervisor}"},
        }
        with httpx.Client(base_url=dispatcher.api, headers=dispatcher.headers, timeout=10) as client:
            for service in ("A", "A", "E"):  # something to call, read and rate
                assert client.post("/halls/demo/tickets", json={"service": service}).status_code == 201
        yield dispatcher, principals
    finally:
        dispatcher.kill()


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: tuple[Dispatcher, dict[str, dict[str, str]]]) -> Any:
    dispatcher, _ = fuzzed_server
    return schemathesis.openapi.from_url(f"{dispatcher.url}/openapi.json")


def fuzz_operation(operation: Any, mode: GenerationMode, call: Any) -> str | None:
    """Run FUZZ_EXAMPLES generated cases of one operation; the first failure, shrunk, as text."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None, phases=[Phase.generate, Phase.shrink])  # fmt: skip
    def run(case: Any) -> None:
        call(case)

    try:
        run()
    except Unsatisfiable:
        return None  # no invalid input exists (only free-text strings): nothing to try in this mode
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis' failure groups and check failures alike
        return f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}"[:1500]
    return None


def test_no_server_error_and_no_schema_mismatch(
    api_schema: Any, fuzzed_server: tuple[Dispatcher, dict[str, dict[str, str]]]
) -> None:
    dispatcher, principals = fuzzed_server

    def call(case: Any) -> None:
        for headers in principals.values():
            case.call_and_validate(base_url=dispatcher.url, headers=headers, checks=CHECKS, timeout=20)

    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    failures = [
        failure
        for operation in operations
        if (operation.method.upper(), operation.path) not in SKIPPED
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if (failure := fuzz_operation(operation, mode, call)) is not None
    ]
    assert failures == [], f"{len(failures)} operation(s) failed:\n" + "\n\n".join(failures)


def test_the_server_survived_the_fuzz(fuzzed_server: tuple[Dispatcher, dict[str, dict[str, str]]]) -> None:
    dispatcher, _ = fuzzed_server
    assert httpx.get(f"{dispatcher.api}/health", timeout=10).status_code == 200
    assert "Traceback" not in dispatcher.log_text(), dispatcher.log_text()[-4000:]
