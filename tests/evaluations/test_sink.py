"""The 好差评 platform feed (DESIGN.md §11, `evaluation.sink`): every rating and every later change of its
record reaches the platform once, in order, across a platform that is down, an answer lost on the way
back and dispatcher restarts; on SQLite and PostgreSQL. The platform is a small local HTTP server."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

from hallq.config import ConfigError, EvaluationRules, HallConfig, load_hall_config
from server.evaluations import tables as et
from server.evaluations.outbox import FeedRecord
from server.evaluations.sinks import FileSink
from tests.evaluations.test_api import PHONE, bad_rating, staff, step
from tests.server.conftest import make_settings, running_app
from tests.server.test_permissions import hall_with_devices, served_at_window_1, token_of
from tests.support.ports import free_port

WAIT_S = 20.0


class Platform:
    """The provincial platform: stores each record once by its Idempotency-Key and answers as scripted,
    one behaviour per POST: `lose` (store it, then hang up without an answer), `down` (503), else up."""

    def __init__(self, port: int, script: list[str]) -> None:
        self.port = port
        self.script = list(script)
        self.posts: list[str] = []  # every key POSTed, repeats included
        self.keys: list[str] = []  # every key stored, once each, in arrival order
        self.bodies: dict[str, dict[str, Any]] = {}
        self.paths: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                platform.answer(self, self.headers["Idempotency-Key"], json.loads(body))

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def answer(self, handler: BaseHTTPRequestHandler, key: str, body: dict[str, Any]) -> None:
        self.posts.append(key)
        self.paths.append(handler.path)
        behaviour = self.script.pop(0) if self.script else "up"
        if behaviour == "down":
            handler.send_response(503)
            handler.end_headers()
            return
        if key not in self.bodies:
            self.keys.append(key)
            self.bodies[key] = body
        if behaviour == "lose":
            handler.close_connection = True  # stored, but the answer never reaches the dispatcher
            return
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"{}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def hall_with_sink(**sink: Any) -> HallConfig:
    data = hall_with_devices().model_dump()
    data["evaluation"].update({"area_code": "320100", "sink": {"retry_max_s": 0.05, **sink}})
    return HallConfig.model_validate(data)


def outbox_keys(app: Any) -> list[str]:
    query = sa.select(et.rating_outbox.c.rating_id, et.rating_outbox.c.revision).order_by(et.rating_outbox.c.seq)
    with app.state.dispatcher.store.engine.connect() as conn:
        return [f"demo-{r.rating_id}-{r.revision}" for r in conn.execute(query)]


async def good_rating(client: httpx.AsyncClient, clerk1: dict[str, str]) -> dict[str, Any]:
    ticket_id, _ = await served_at_window_1(client, clerk1)
    rated = await client.post("/halls/demo/evaluations", json={"ticket_id": ticket_id, "score": 5,
                              "reasons": ["attitude"]}, headers=token_of("evaluator-1"))  # fmt: skip
    assert rated.status_code == 201, rated.text
    answer: dict[str, Any] = rated.json()
    return answer


async def wait(app: Any, condition: Any) -> None:
    feeder = app.state.rating_feeder
    assert await asyncio.to_thread(feeder.wait_until, condition, WAIT_S), feeder.errors


def test_every_record_reaches_a_platform_that_goes_down_once_and_in_order(database: str) -> None:
    port = free_port()
    platform = Platform(port, script=["lose", "down", "down"])
    config = hall_with_sink(kind="http", url=f"http://127.0.0.1:{port}/hcp/{{areacode}}/pj/{{recordid}}")
    settings = make_settings(database, config)
    state: dict[str, Any] = {}

    async def while_the_platform_is_away() -> None:
        async with running_app(settings) as (client, app):
            who = await staff(client)
            await good_rating(client, who["clerk1"])
            bad = await bad_rating(client, who["clerk1"], contact_phone=PHONE)
            state["order"] = order = bad["rectification"]["id"]
            state["bad"], state["ticket"] = bad["id"], bad["rectification"]["ticket"]
            assert (await step(client, order, "verify", who["supervisor"], facts="属实")).status_code == 200
            feeder = app.state.rating_feeder
            await wait(app, lambda: "ConnectError" in feeder.errors.get("demo", ""))
            assert len(outbox_keys(app)) == 3  # kept, none sent: the platform is not listening
            feed = (await client.get("/halls/demo/evaluations/feed", headers=who["supervisor"])).json()
            assert (feed["sink"], feed["recorded"], feed["delivered"], feed["pending"]) == ("http", 3, 0, 3)
            assert "ConnectError" in feed["last_error"]
            assert (await client.get("/halls/demo/evaluations/feed", headers=who["clerk1"])).status_code == 403

    async def after_a_restart_with_the_platform_back() -> None:
        async with running_app(settings) as (client, app):
            who = await staff(client)
            order = state["order"]
            assert (await step(client, order, "rectify", who["clerk1"], measures="已培训")).status_code == 200
            assert (await step(client, order, "call-back", who["supervisor"], satisfied=True)).status_code == 200
            await good_rating(client, who["clerk1"])
            key = app.state.dispatcher.runtime("demo").live().ticket(state["ticket"]).access
            follow = await client.post(f"/halls/demo/tickets/{state['ticket']}/evaluation/follow-up", params={"k": key},
                                       json={"score": 4})  # fmt: skip
            assert follow.status_code == 201, follow.text
            feeder = app.state.rating_feeder
            await wait(app, lambda: feeder.all_delivered() and "demo" not in feeder.errors)
            state["keys"] = outbox_keys(app)
            feed = (await client.get("/halls/demo/evaluations/feed", headers=who["supervisor"])).json()
            assert (feed["recorded"], feed["delivered"], feed["pending"], feed["last_error"]) == (7, 7, 0, None)

    async def restarted_again() -> None:
        async with running_app(settings) as (_client, app):
            await wait(app, lambda: app.state.rating_feeder.rounds >= 1)

    asyncio.run(while_the_platform_is_away())
    platform.start()
    try:
        asyncio.run(after_a_restart_with_the_platform_back())
        posts = len(platform.posts)
        asyncio.run(restarted_again())
    finally:
        platform.stop()

    assert len(state["keys"]) == 7  # two ratings, three steps of the order, one more rating, the 追评
    assert platform.keys == state["keys"]  # each once, in the order they were made
    # The first record was stored but its answer lost, then refused twice (503), then answered: sent four
    # times and kept once, recognised by its key; the others went through at the first try.
    assert platform.posts == [platform.keys[0]] * 4 + platform.keys[1:]
    assert len(platform.posts) == posts  # the last restart sent nothing again
    assert all(path.startswith("/hcp/320100/pj/demo-") for path in platform.paths)
    order_records = [platform.bodies[k] for k in platform.keys if platform.bodies[k]["satisfaction"] == 2]
    assert [r["revision"] for r in order_records] == [0, 1, 2, 3]
    assert {r["evaluationid"] for r in order_records} == {state["bad"]}
    follow_up = platform.bodies[platform.keys[-1]]
    assert (follow_up["followup"], follow_up["follows"], follow_up["satisfaction"]) == (1, state["bad"], 4)
    assert follow_up["projectno"] == order_records[0]["projectno"]
    last = order_records[-1]
    assert (last["verification"], last["rectification"], last["callbackresult"]) == ("属实", "已培训", "满意")
    assert last["realname"] == 1 and last["areacode"] == "320100"
    assert all(platform.bodies[k]["recordid"] == k for k in platform.keys)
    sent = json.dumps(platform.bodies, ensure_ascii=False)
    assert PHONE not in sent and PHONE[-4:] not in sent  # the phone goes nowhere, not even masked


def test_the_file_sink_appends_each_record_once_across_a_lost_cursor(database: str, tmp_path: Path) -> None:
    path = tmp_path / "platform" / "haochaping.jsonl"
    settings = make_settings(database, hall_with_sink(kind="file", path=str(path)))

    async def rate_two() -> None:
        async with running_app(settings) as (client, app):
            who = await staff(client)
            await good_rating(client, who["clerk1"])
            await bad_rating(client, who["clerk1"])
            assert await asyncio.to_thread(app.state.rating_feeder.wait_delivered, WAIT_S)
            # A crash after the fsync and before the cursor's commit: the cursor never moved.
            with app.state.dispatcher.store.engine.begin() as conn:
                conn.execute(et.rating_sink_cursor.update().values(last_seq=0))

    async def restart() -> list[str]:
        async with running_app(settings) as (_client, app):
            assert await asyncio.to_thread(app.state.rating_feeder.wait_delivered, WAIT_S)
            return outbox_keys(app)

    asyncio.run(rate_two())
    keys = asyncio.run(restart())
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["recordid"] for line in lines] == keys and len(keys) == 2
    assert [line["satisfaction"] for line in lines] == [5, 2]


def record(seq: int) -> FeedRecord:
    key = f"demo-r{seq}-0"
    return FeedRecord("demo", seq, key, {"recordid": key, "projectno": f"A{seq:03d}"})


def test_the_file_sink_drops_a_torn_last_line_and_skips_what_it_wrote(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    assert FileSink(path).deliver([record(1), record(2)]).count == 2
    with open(path, "ab") as handle:
        handle.write(b'{"recordid": "demo-r3-0", "proj')  # the power went mid-line
    again = FileSink(path)  # a restart whose cursor stayed at 1
    assert again.deliver([record(2), record(3)]).count == 2
    assert [json.loads(x)["recordid"] for x in path.read_text().splitlines()] == ["demo-r1-0", "demo-r2-0",
                                                                                 "demo-r3-0"]  # fmt: skip


def test_the_file_sink_reports_a_path_it_cannot_write(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    result = FileSink(blocked / "feed.jsonl").deliver([record(1)])
    assert result.count == 0 and result.error is not None and "feed.jsonl" in result.error


@pytest.mark.parametrize(
    ("sink", "says"),
    [
        ({"kind": "http"}, "needs url"),
        ({"kind": "http", "url": "ftp://hcp/x"}, "http:// or https://"),
        ({"kind": "http", "url": "https://hcp/{areacode}/{phone}"}, "unknown field(s) 'phone'"),
        ({"kind": "file"}, "needs path"),
        ({"kind": "file", "path": "/x", "url": "https://hcp/"}, "url is for the http sink"),
        ({"kind": "kafka"}, "'none', 'file' or 'http'"),
    ],
)
def test_a_sink_misconfigured_is_refused_with_its_path_and_a_sentence(
    sink: dict[str, Any], says: str, tmp_path: Path
) -> None:
    data = hall_with_devices().model_dump(mode="json")
    data["evaluation"]["sink"] = sink
    path = tmp_path / "hall.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_hall_config(path)
    [(where, sentence)] = refused.value.errors
    assert where.startswith("evaluation.sink") and says in sentence, refused.value.errors


def test_a_sink_may_be_named_alone() -> None:
    assert EvaluationRules.model_validate({"sink": "none"}).sink.kind == "none"
    assert EvaluationRules().sink.kind == "none"  # the default: the monthly export only
