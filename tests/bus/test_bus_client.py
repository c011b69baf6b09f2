"""hallq.bus against a real Mosquitto (config/mosquitto.conf) and the embedded amqtt broker."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hallq.broker import BrokerPortInUse, EmbeddedBroker
from hallq.bus import BrokerRefused, BusClient, Message, asyncio_dispatch, parse_broker_url
from hallq.contract import CallMessage, DeviceStatus, DispatcherStatus, Topics
from tests.bus.helpers import Recorder, retained, run_async, wait_until
from tests.support.broker import Broker

T = Topics("demo")
CALL = CallMessage.model_validate(
    {"seq": 1, "type": "call", "ticket": "A001", "window": "1", "window_name": "1号窗口", "service": "A",
     "service_name": "社保业务", "at": "2026-11-23T09:00:00+08:00", "announce": "请A001号到1号窗口办理"}
)  # fmt: skip


def test_url_parsing() -> None:
    a = parse_broker_url("mqtt://dev%40x:p%3Ass@broker.local:1884?protocol=3.1.1")
    assert (a.host, a.port, a.username, a.password, a.protocol) == ("broker.local", 1884, "dev@x", "p:ss", "3.1.1")
    assert parse_broker_url("mqtts://h").port == 8883
    assert "***" in a.redacted() and "p:ss" not in a.redacted()
    for bad in ("http://h", "mqtt://", "mqtt://h?protocol=4"):
        with pytest.raises(ValueError):
            parse_broker_url(bad)


def test_publish_subscribe_unsubscribe_and_status(mosquitto: Broker) -> None:
    rec = Recorder(mosquitto.device_url("board-1"), device="board-1").start()
    disp = BusClient(mosquitto.url, hall="demo", kind="dispatcher")
    disp.start()
    try:
        assert disp.wait_connected(10)
        wait_until(lambda: f"{T.root}/dispatcher/status" in rec.status, what="dispatcher online")
        assert rec.status[f"{T.root}/dispatcher/status"]["online"] is True
        assert rec.status[T.device_status("board-1")]["online"] is True  # its own birth message
        extra: list[Message] = []
        unsubscribe = rec.bus.subscribe(T.calls, extra.append)
        handle = disp.publish(T.calls, CALL)
        assert handle.wait(10) and handle.accepted
        wait_until(lambda: rec.unique_calls() == {1} and len(extra) == 1, what="the call")
        unsubscribe()
        unsubscribe()  # twice is harmless
        disp.publish(T.calls, CALL.model_copy(update={"seq": 2})).wait(10)
        wait_until(lambda: rec.unique_calls() == {1, 2}, what="second call")
        assert len(extra) == 1  # the unsubscribed handler got nothing more
    finally:
        disp.stop()
        rec.stop()
    # a clean stop says offline (retained), not through the Last Will
    status = retained(mosquitto.url, T.dispatcher_status)
    assert DispatcherStatus.model_validate_json(status[T.dispatcher_status]).online is False


def test_bad_payload_and_raising_handler_do_not_stop_the_client(mosquitto: Broker) -> None:
    rec = Recorder(mosquitto.device_url("board-1"), device="board-1")
    calls: list[int] = []

    def explode(_m: Message) -> None:
        raise RuntimeError("handler bug")

    rec.bus.subscribe(T.calls, explode)
    rec.bus.subscribe_model(T.calls, CallMessage, lambda c, _m: calls.append(c.seq))
    rec.start()
    disp = BusClient(mosquitto.url, hall="demo", kind="dispatcher")
    disp.start()
    try:
        assert disp.wait_connected(10)
        for payload in (b"not json", b'{"seq": "x"}', "中文".encode(), CALL.to_json()):
            disp.publish(T.calls, payload)
        wait_until(lambda: calls == [1], what=f"the good call after bad ones (got {calls})")
        assert rec.bus.connected
    finally:
        disp.stop()
        rec.stop()


def test_wrong_password_is_refused_without_retrying(mosquitto: Broker) -> None:
    bad = BusClient(mosquitto.user_url("board-1", "wrong-token"), hall="demo", kind="board", device="board-1")
    bad.start()
    try:
        with pytest.raises(BrokerRefused, match="refused"):
            bad.wait_connected(10)
        attempts = mosquitto.log().count("board-1")
        time.sleep(2.5)  # paho would have retried after 1 s and 2 s
        assert mosquitto.log().count("board-1") == attempts
    finally:
        bad.stop()
    anonymous = BusClient(mosquitto.anonymous_url, hall="demo", kind="board", device="anon")
    anonymous.start()
    try:
        with pytest.raises(BrokerRefused):
            anonymous.wait_connected(10)
    finally:
        anonymous.stop()


def test_acl_device_writes_only_its_status_and_its_windows_commands(mosquitto: Broker) -> None:
    rec = Recorder(mosquitto.url, device="dispatcher-watch").start()  # the dispatcher user sees everything
    keypad = BusClient(mosquitto.device_url("keypad-1", windows=["3"]), hall="demo", kind="keypad_bridge",
                       device="keypad-1")  # fmt: skip
    keypad.start()
    try:
        assert keypad.wait_connected(10)
        allowed = keypad.publish(T.window_commands("3"), b'{"command":"recall","request_id":"r1"}')
        assert allowed.wait(10) and allowed.accepted
        for topic in (T.board, T.calls, T.window("3"), T.window_commands("4"), T.dispatcher_status,
                      T.device_status("board-1")):  # fmt: skip
            refused = keypad.publish(topic, b'{"forged": true}', retain=topic != T.calls)
            assert refused.wait(10) and not refused.accepted, topic  # MQTT 5 PUBACK 135 not authorised
        wait_until(lambda: len(rec.on("windows/3/commands")) == 1, what="the allowed command")
        time.sleep(0.5)
        forged = [m for m in rec.messages if b"forged" in m.payload]
        assert forged == []
    finally:
        keypad.stop()
        rec.stop()


def test_last_will_marks_a_dead_device_offline(mosquitto: Broker, tmp_path: Path) -> None:
    rec = Recorder(mosquitto.url, device="watch").start()
    script = tmp_path / "device.py"
    script.write_text(
        "import sys, time\n"
        "from hallq.bus import BusClient\n"
        "c = BusClient(sys.argv[1], hall='demo', kind='voice', device='voice-1', keepalive=5)\n"
        "c.start(); assert c.wait_connected(15); print('up', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, str(script), mosquitto.device_url("voice-1")], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"up"
        topic = T.device_status("voice-1")
        wait_until(lambda: rec.status.get(topic, {}).get("online") is True, what="device online")
        proc.kill()  # kill -9: no goodbye, only the broker's Last Will
        wait_until(lambda: rec.status.get(topic, {}).get("online") is False, timeout=30, what="Last Will")
        assert rec.status[topic]["kind"] == "voice"
        assert DeviceStatus.model_validate_json(retained(mosquitto.url, topic)[topic]).online is False
    finally:
        proc.kill()
        proc.wait()
        rec.stop()


def test_reconnect_resubscribes_and_queued_qos1_is_sent_once(mosquitto: Broker) -> None:
    rec = Recorder(mosquitto.device_url("board-1"), device="board-1").start()
    disp = BusClient(mosquitto.url, hall="demo", kind="dispatcher", max_backoff=2)
    reconnects: list[bool] = []
    disp.on_connection_change(reconnects.append)
    disp.start()
    try:
        assert disp.wait_connected(10)
        mosquitto.kill()
        wait_until(lambda: not disp.connected and not rec.bus.connected, what="both notice the broker is gone")
        handles = [disp.publish(T.calls, CALL.model_copy(update={"seq": s})) for s in (1, 2, 3)]
        assert not any(h.done for h in handles)  # queued in paho (MQTT_ERR_NO_CONN), not lost
        mosquitto.start(fresh=True)  # a broker with no memory at all
        wait_until(lambda: all(h.done for h in handles), timeout=30, what="queued messages acknowledged")
        wait_until(lambda: rec.bus.connected, timeout=30, what="recorder back")
        # the recorder may have resubscribed after the resend; publish one more to prove it resubscribed
        disp.publish(T.calls, CALL.model_copy(update={"seq": 4})).wait(10)
        wait_until(lambda: 4 in rec.unique_calls(), what="call after the reconnect")
        seqs = rec.call_seqs
        assert len(seqs) == len(set(seqs)), f"duplicates: {seqs}"
        assert reconnects[:3] == [True, False, True]
        # online status published again after the reconnect (the new broker had none retained)
        assert DeviceStatus.model_validate_json(
            retained(mosquitto.url, T.device_status("board-1"))[T.device_status("board-1")]
        ).online
    finally:
        disp.stop()
        rec.stop()


def test_asyncio_dispatch_runs_handlers_on_the_loop_thread(mosquitto: Broker) -> None:
    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        threads: list[str] = []
        got = asyncio.Event()
        sub = BusClient(mosquitto.device_url("board-1"), hall="demo", kind="board", device="board-1",
                        dispatch=asyncio_dispatch(loop))  # fmt: skip

        def handler(_m: Message) -> None:
            threads.append(threading.current_thread().name)
            got.set()

        sub.subscribe(T.calls, handler)
        sub.start()
        pub = BusClient(mosquitto.url, hall="demo", kind="dispatcher")
        pub.start()
        try:
            assert await asyncio.to_thread(sub.wait_connected, 10)
            assert await asyncio.to_thread(pub.wait_connected, 10)
            handle = pub.publish(T.calls, CALL)
            await asyncio.wait_for(handle.wait_async(), 10)
            await asyncio.wait_for(got.wait(), 10)
        finally:
            await asyncio.to_thread(pub.stop)
            await asyncio.to_thread(sub.stop)
        return threads

    assert run_async(scenario()) == [threading.main_thread().name]


def test_embedded_broker_speaks_to_the_bus_client_and_refuses_a_taken_port() -> None:
    async def scenario() -> None:
        broker = EmbeddedBroker(port=0)
        await broker.start()
        try:
            with pytest.raises(BrokerPortInUse, match="--mqtt-port"):
                await EmbeddedBroker(port=broker.port).start()
            url = f"mqtt://127.0.0.1:{broker.port}"  # protocol auto: falls back to 3.1.1
            rec = Recorder(url, device="board-1")
            await asyncio.to_thread(rec.start)
            pub = BusClient(url, hall="demo", kind="dispatcher")
            pub.start()
            try:
                assert await asyncio.to_thread(pub.wait_connected, 15)
                await asyncio.wait_for(pub.publish(T.calls, CALL).wait_async(), 10)
                await asyncio.to_thread(wait_until, lambda: rec.unique_calls() == {1})
                await asyncio.to_thread(wait_until, lambda: T.dispatcher_status in rec.status)
            finally:
                await asyncio.to_thread(pub.stop)
                await asyncio.to_thread(rec.stop)
        finally:
            await broker.stop()

    run_async(scenario())


def test_wire_filters_keep_only_covering_subscriptions() -> None:
    from hallq.bus import filter_covers, wire_filters

    assert filter_covers("a/#", "a") and filter_covers("a/#", "a/b/c") and filter_covers("#", "x/y")
    assert filter_covers("a/+/c", "a/b/c") and filter_covers("a/+", "a/+")
    assert not filter_covers("a/+", "a/#") and not filter_covers("a/b", "a/+") and not filter_covers("a/+", "a/b/c")
    wire = wire_filters({"r/#": 0, "r/calls": 1, "r/windows/+": 1, "x/+": 0, "x/y": 1, "z": 1})
    assert wire == {"r/#": 1, "x/+": 1, "z": 1}
