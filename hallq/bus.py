"""The one MQTT client every hallq process uses (DESIGN.md sections 5 and 10).

One adapter owns paho-mqtt (2.x, `CallbackAPIVersion.VERSION2`), in the manner of Home Assistant's
`components/mqtt/client.py`:

- the Last Will (retained `online: false` on the process's status topic) is set before connecting;
- on every (re)connect it resubscribes, then publishes its retained `online: true` status;
- `subscribe(topic, handler)` returns a function that unsubscribes;
- each handler runs isolated: a bad payload or a raising handler is logged and dropped;
- reconnects back off exponentially (paho's own `reconnect_delay_set`), and a broker that refuses
  the credentials stops the retrying with a clear `BrokerRefused` error instead of hammering it;
- messages reach the application only through a pluggable `dispatch` callable, so asyncio code gets
  them on its loop (`asyncio_dispatch(loop)`) and Kivy code on its main thread (`kivy_dispatch()`);
  nothing runs application code on paho's network thread unless asked to (`direct_dispatch`).

Publishing while disconnected: paho returns `MQTT_ERR_NO_CONN` for a QoS 1 message yet keeps it
queued and sends it after the reconnect, so this module never republishes on that code (it would
duplicate the message). `publish()` returns a `PublishHandle` that completes on the PUBACK.

With the embedded broker (amqtt, MQTT 3.1.1 only) the client falls back from MQTT 5 to 3.1.1 by
itself when the broker drops a 5.0 CONNECT without answering.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import BaseModel, ValidationError

from hallq.contract import DeviceStatus, DispatcherStatus, Payload, Topics

log = logging.getLogger(__name__)

Dispatch = Callable[[Callable[[], None]], None]
Handler = Callable[["Message"], None]
M = TypeVar("M", bound=BaseModel)

# CONNACK codes that mean "these credentials will never work": 3.1.1 (4 bad user/pass,
# 5 not authorised) and MQTT 5 (134 bad user name or password, 135 not authorised, 138 banned,
# 140 bad authentication method).
REFUSED_FOR_GOOD = {4, 5, 134, 135, 138, 140}
DISPATCHER_KIND = "dispatcher"


class BrokerRefused(Exception):
    """The broker refused this client's credentials; retrying would not help."""


class BusUrlError(ValueError):
    """An --mqtt URL that cannot be used."""


# --- dispatchers: where handlers run ------------------------------------------------------------


def direct_dispatch(call: Callable[[], None]) -> None:
    """Run handlers on paho's network thread (scripts and tests that only record messages)."""
    call()


def asyncio_dispatch(loop: asyncio.AbstractEventLoop) -> Dispatch:
    """Run handlers on an asyncio loop; safe from paho's thread."""

    def dispatch(call: Callable[[], None]) -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(call)

    return dispatch


def kivy_dispatch() -> Dispatch:
    """Run handlers on Kivy's main thread through `Clock.schedule_once`: never touch UI from paho's thread."""
    from kivy.clock import Clock  # imported here: the core must not need Kivy

    def dispatch(call: Callable[[], None]) -> None:
        Clock.schedule_once(lambda _dt: call(), 0)

    return dispatch


# --- URLs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    protocol: str = "auto"  # "5", "3.1.1" or "auto" (5, falling back to 3.1.1)

    def redacted(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """`mqtt://user:pass@host:port?protocol=5` (mqtts:// for TLS; `tcp://` is accepted as mqtt://)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise BusUrlError(f"{url!r}: the MQTT URL must start with mqtt:// or mqtts://")
    if not parsed.hostname:
        raise BusUrlError(f"{url!r}: the MQTT URL names no host")
    tls = parsed.scheme in ("mqtts", "ssl")
    try:
        port = parsed.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise BusUrlError(f"{url!r}: {exc}") from None
    protocol = parse_qs(parsed.query).get("protocol", ["auto"])[0]
    if protocol not in ("auto", "5", "3.1.1"):
        raise BusUrlError(f"{url!r}: protocol must be 5, 3.1.1 or auto")
    return BrokerAddress(
        host=parsed.hostname,
        port=port,
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password is not None else None,
        tls=tls,
        protocol=protocol,
    )


# --- messages and publish handles ----------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    response_topic: str | None = None
    correlation_data: bytes | None = None


class PublishHandle:
    """Completes when the broker acknowledges a QoS 1 message (PUBACK) or a QoS 0 one is written."""

    def __init__(self, topic: str, mid: int) -> None:
        self.topic = topic
        self.mid = mid
        self.reason: int | None = None
        self._done = False
        # Made only for a thread that blocks in wait(): the dispatcher publishes a few messages per
        # call and waits through callbacks, and an Event per message was 2 % of its time (issue 18).
        self._event: threading.Event | None = None
        self._callbacks: list[Callable[[PublishHandle], None]] = []
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        return self._done

    @property
    def accepted(self) -> bool:
        """Acknowledged and not refused (an MQTT 5 PUBACK can carry e.g. 135 not authorised)."""
        return self.done and (self.reason is None or self.reason < 0x80)

    def wait(self, timeout: float | None = None) -> bool:
        with self._lock:
            if self._done:
                return True
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        return event.wait(timeout)

    def add_done_callback(self, callback: Callable[[PublishHandle], None]) -> None:
        """Called (on paho's thread, or at once if already done) when the message is acknowledged."""
        with self._lock:
            if not self._done:
                self._callbacks.append(callback)
                return
        callback(self)

    async def wait_async(self) -> PublishHandle:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PublishHandle] = loop.create_future()

        def settle(handle: PublishHandle) -> None:
            if not future.done():
                future.set_result(handle)

        def resolve(handle: PublishHandle) -> None:
            loop.call_soon_threadsafe(settle, handle)

        self.add_done_callback(resolve)
        return await future

    def _complete(self, reason: int | None) -> None:
        with self._lock:
            self.reason = reason
            self._done = True
            if self._event is not None:
                self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback(self)
            except Exception:
                log.exception("publish callback for %s failed", self.topic)


@dataclass
class _Subscription:
    topic: str
    qos: int
    handler: Handler
    active: bool = True
    key: int = field(default=0)


# --- the client ------------------------------------------------------------------------------------


class BusClient:
    """One connection to the broker for one process (a device, or the dispatcher of one hall).

    `kind="dispatcher"` makes `dispatcher/status` the status topic and Last Will; any other kind uses
    `devices/{device}/status`. Start with `start()`, stop with `stop()` (publishes `online: false`).
    """

    def __init__(
        self,
        url: str,
        *,
        hall: str,
        kind: str,
        device: str | None = None,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        dispatch: Dispatch = direct_dispatch,
        keepalive: int = 15,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_inflight: int = 100,
        status_detail: dict[str, Any] | None = None,
    ) -> None:
        self.address = parse_broker_url(url)
        self.topics = Topics(hall)
        self.hall = hall
        self.kind = kind
        self.is_dispatcher = kind == DISPATCHER_KIND
        if not self.is_dispatcher and not device:
            raise ValueError("a device's bus client needs its device id")
        self.device = device or f"{DISPATCHER_KIND}-{hall}"
        self.client_id = client_id or (
            f"hallq-dispatcher-{hall}-{socket.gethostname()}-{os.getpid()}" if self.is_dispatcher else self.device
        )
        self.status_topic = (
            self.topics.dispatcher_status if self.is_dispatcher else self.topics.device_status(self.device)
        )
        self._dispatch = dispatch
        self._status_detail = dict(status_detail or {})
        self._subs: list[_Subscription] = []
        self._wire: dict[str, int] = {}  # filters subscribed on the wire → QoS
        self._subs_lock = threading.Lock()
        self._next_key = 0
        self._connect_listeners: list[Callable[[bool], None]] = []
        self._pending: dict[int, PublishHandle] = {}
        self._early_acks: dict[int, int | None] = {}
        self._acks_lock = threading.Lock()
        self._connected = threading.Event()
        self._ready = threading.Event()  # connected and the resubscription acknowledged (SUBACK)
        self._ready_mid: int | None = None
        self._v5_confirmed = False
        self._stopped = threading.Event()
        self.error: BrokerRefused | None = None
        self._client = self._make_client(keepalive, min_backoff, max_backoff, max_inflight, username, password)
        self._keepalive = keepalive

    @classmethod
    def for_device(cls, settings: Any, dispatch: Dispatch = direct_dispatch, **kwargs: Any) -> BusClient:
        """From `hallq.device.DeviceSettings`: user:pass in the URL, else device id + device token."""
        address = parse_broker_url(settings.mqtt)
        return cls(
            settings.mqtt,
            hall=settings.hall,
            kind=settings.kind,
            device=settings.device,
            username=None if address.username else settings.device,
            password=None if address.username else settings.token,
            dispatch=dispatch,
            **kwargs,
        )

    # --- paho setup ------------------------------------------------------------------------------

    def _make_client(
        self,
        keepalive: int,
        min_backoff: float,
        max_backoff: float,
        max_inflight: int,
        username: str | None,
        password: str | None,
    ) -> mqtt.Client:
        protocol = mqtt.MQTTv311 if self.address.protocol == "3.1.1" else mqtt.MQTTv5
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=protocol)
        user = self.address.username or username
        secret = self.address.password if self.address.username else password
        if user:
            client.username_pw_set(user, secret)
        if self.address.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=max(1, int(min_backoff)), max_delay=int(max_backoff))
        client.max_inflight_messages_set(max_inflight)
        client.max_queued_messages_set(0)  # unbounded: the outbox must never be dropped by the client
        client.on_pre_connect = self._on_pre_connect
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        self._set_will(client)
        return client

    def _status_payload(self, online: bool) -> Payload:
        now = dt.datetime.now(dt.UTC)
        if self.is_dispatcher:
            return DispatcherStatus(online=online, at=now)
        return DeviceStatus(online=online, kind=self.kind, at=now, detail=self._status_detail)

    def _set_will(self, client: mqtt.Client) -> None:
        # Set before every connect so the will's `at` is the time of the latest connection.
        client.will_set(self.status_topic, self._status_payload(False).to_json(), qos=1, retain=True)

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; keeps reconnecting with backoff until `stop()`."""
        log.info("MQTT: connecting to %s as %s (%s)", self.address.redacted(), self.client_id, self.kind)
        self._client.connect_async(self.address.host, self.address.port, keepalive=self._keepalive)
        self._client.loop_start()

    def stop(self, timeout: float = 3.0) -> None:
        """Publish `online: false`, disconnect cleanly (no Last Will) and stop the network thread."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._connected.is_set():
            handle = self.publish(self.status_topic, self._status_payload(False), qos=1, retain=True)
            handle.wait(timeout)
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
        self._ready.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        """True once connected with the subscriptions in place (SUBACK); raises BrokerRefused if the
        broker refused the credentials."""
        deadline = None if timeout is None else dt.datetime.now().timestamp() + timeout
        while True:
            if self.error is not None:
                raise self.error
            remaining = None if deadline is None else max(0.0, deadline - dt.datetime.now().timestamp())
            if self._ready.wait(0.05 if remaining is None else min(0.05, remaining)):
                return True
            if remaining is not None and remaining <= 0:
                return False

    def on_connection_change(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        """`listener(True)` after each (re)connect (subscriptions and status already sent), `(False)` on loss;
        called through the dispatcher. Returns a function that removes the listener."""
        self._connect_listeners.append(listener)
        return lambda: self._connect_listeners.remove(listener) if listener in self._connect_listeners else None

    def set_status_detail(self, detail: dict[str, Any]) -> None:
        """Change the `detail` of this device's status (e.g. printer paper) and republish it."""
        self._status_detail = dict(detail)
        self._set_will(self._client)
        if self._connected.is_set():
            self.publish(self.status_topic, self._status_payload(True), qos=1, retain=True)

    # --- publish ----------------------------------------------------------------------------------

    def publish(
        self,
        topic: str,
        payload: Payload | bytes | str,
        *,
        qos: int = 1,
        retain: bool = False,
        response_topic: str | None = None,
        correlation_data: bytes | None = None,
    ) -> PublishHandle:
        """Queue a message; paho sends it now or after the next reconnect (never republish it yourself)."""
        raw = payload.to_json() if isinstance(payload, Payload) else payload
        properties = None
        if (response_topic or correlation_data) and self._client._protocol == mqtt.MQTTv5:
            properties = Properties(PacketTypes.PUBLISH)
            if response_topic:
                properties.ResponseTopic = response_topic
            if correlation_data:
                properties.CorrelationData = correlation_data
        info = self._client.publish(topic, raw, qos=qos, retain=retain, properties=properties)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            # QUEUE_SIZE and friends: the message is not queued; report it done-with-error.
            handle = PublishHandle(topic, info.mid)
            handle._complete(0x80)
            log.error("MQTT publish to %s refused by the client: %s", topic, mqtt.error_string(info.rc))
            return handle
        handle = PublishHandle(topic, info.mid)
        with self._acks_lock:
            early = self._early_acks.pop(info.mid, _MISSING)
            if early is _MISSING:
                self._pending[info.mid] = handle
        if early is not _MISSING:
            handle._complete(early)  # type: ignore[arg-type]
        return handle

    def publish_status(self, online: bool = True) -> PublishHandle:
        return self.publish(self.status_topic, self._status_payload(online), qos=1, retain=True)

    # --- subscribe ---------------------------------------------------------------------------------

    def subscribe(self, topic: str, handler: Handler, qos: int = 1) -> Callable[[], None]:
        """Call `handler(Message)` (through the dispatcher) for every message on `topic` (wildcards ok).
        Returns a function that unsubscribes; the subscription survives reconnects.

        On the wire the client subscribes only to the filters not covered by another one (`a/#` covers
        `a/b` and `a/+/c`): brokers send one copy per matching subscription (Mosquitto 2, amqtt), and a
        handler must see each message once."""
        with self._subs_lock:
            self._next_key += 1
            sub = _Subscription(topic, qos, handler, key=self._next_key)
            self._subs.append(sub)
            added, removed = self._rewire()
        self._send_wire_changes(added, removed)

        def unsubscribe() -> None:
            with self._subs_lock:
                if not sub.active:
                    return
                sub.active = False
                self._subs.remove(sub)
                added, removed = self._rewire()
            self._send_wire_changes(added, removed)

        return unsubscribe

    def _rewire(self) -> tuple[dict[str, int], list[str]]:
        """Recompute the wire filters (under _subs_lock); return what to subscribe and unsubscribe."""
        wanted = wire_filters({s.topic: s.qos for s in self._subs})
        added = {t: q for t, q in wanted.items() if self._wire.get(t) != q}
        removed = [t for t in self._wire if t not in wanted]
        self._wire = wanted
        if not self._connected.is_set():
            return {}, []  # sent in full on the next connect
        return added, removed

    def _send_wire_changes(self, added: dict[str, int], removed: list[str]) -> None:
        # Subscribe before unsubscribing: a moment of duplicates (handlers dedupe by seq) rather than a gap.
        if added:
            self._client.subscribe(list(added.items()))
        if removed:
            self._client.unsubscribe(removed)

    def subscribe_model(
        self, topic: str, model: type[M], handler: Callable[[M, Message], None], qos: int = 1
    ) -> Callable[[], None]:
        """Like `subscribe`, parsing each payload with a contract model; malformed ones are logged and dropped."""

        def parse_then_handle(message: Message) -> None:
            try:
                parsed = model.model_validate_json(message.payload)
            except ValidationError as exc:
                log.warning(
                    "MQTT: dropped a malformed %s on %s: %s",
                    model.__name__,
                    message.topic,
                    exc.errors(include_url=False, include_input=False)[:3],
                )
                return
            handler(parsed, message)

        return self.subscribe(topic, parse_then_handle, qos)

    # --- paho callbacks (paho's thread) --------------------------------------------------------------

    def _on_pre_connect(self, client: mqtt.Client, _userdata: Any) -> None:
        self._set_will(client)
        # amqtt (the embedded broker) hangs on an MQTT 5 CONNECT that carries a will: ask first.
        auto = self.address.protocol == "auto" and not self.address.tls and client._protocol == mqtt.MQTTv5
        if auto and not self._v5_confirmed and probe_mqtt5(self.address.host, self.address.port) is False:
            log.info("MQTT: %s speaks MQTT 3.1.1 only; using it", self.address.redacted())
            _downgrade_to_311(client)

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        code = reason.value if isinstance(reason, ReasonCode) else int(reason)
        if reason.is_failure:
            if code in (1, 132) and self.address.protocol == "auto" and client._protocol == mqtt.MQTTv5:
                log.info("MQTT: %s refused MQTT 5; using 3.1.1", self.address.redacted())
                _downgrade_to_311(client)
            elif code in REFUSED_FOR_GOOD:
                self.error = BrokerRefused(
                    f"MQTT broker {self.address.redacted()} refused {self.client_id!r}: {reason} — "
                    "check the user name and password (device id and token) and the broker's password file"
                )
                log.error("%s; not retrying", self.error)
                client.disconnect()  # ends paho's retry loop
            else:
                log.warning("MQTT broker refused the connection: %s; retrying", reason)
            return
        self._v5_confirmed = client._protocol == mqtt.MQTTv5  # no need to probe on later reconnects
        with self._subs_lock:
            # connected is set under the lock: a concurrent subscribe() is either in this snapshot or
            # sees connected and sends its own SUBSCRIBE.
            self._connected.set()
            self._wire = topics = wire_filters({s.topic: s.qos for s in self._subs})
        self._ready.clear()
        if topics:
            _rc, self._ready_mid = client.subscribe(list(topics.items()))
        else:
            self._ready.set()
        self.publish(self.status_topic, self._status_payload(True), qos=1, retain=True)
        log.info("MQTT: connected to %s (%d subscriptions)", self.address.redacted(), len(topics))
        self._notify_connection(True)

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, mid: int, _reasons: Any, _props: Any) -> None:
        if mid == self._ready_mid:
            self._ready.set()

    def _on_disconnect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _properties: Any
    ) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        self._ready.clear()
        if was_connected:
            if not self._stopped.is_set():
                log.warning("MQTT: lost the broker (%s); reconnecting", reason)
            self._notify_connection(False)

    def _on_connect_fail(self, client: mqtt.Client, _userdata: Any) -> None:
        log.debug("MQTT: cannot reach %s; retrying with backoff", self.address.redacted())

    def _on_publish(self, _client: mqtt.Client, _userdata: Any, mid: int, reason: ReasonCode, _properties: Any) -> None:
        code = reason.value if isinstance(reason, ReasonCode) else None
        with self._acks_lock:
            handle = self._pending.pop(mid, None)
            if handle is None:
                self._early_acks[mid] = code
        if handle is not None:
            if code is not None and code >= 0x80:
                log.error("MQTT: broker refused the message on %s: %s", handle.topic, reason)
            handle._complete(code)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        props = getattr(msg, "properties", None)
        message = Message(
            topic=msg.topic,
            payload=bytes(msg.payload),
            qos=msg.qos,
            retain=bool(msg.retain),
            response_topic=getattr(props, "ResponseTopic", None) if props else None,
            correlation_data=getattr(props, "CorrelationData", None) if props else None,
        )
        with self._subs_lock:
            handlers = [s for s in self._subs if mqtt.topic_matches_sub(s.topic, msg.topic)]
        for sub in handlers:
            self._dispatch(lambda sub=sub: self._run_handler(sub, message))  # type: ignore[misc]

    def _run_handler(self, sub: _Subscription, message: Message) -> None:
        if not sub.active:
            return  # unsubscribed while the message waited in the dispatcher's queue
        try:
            sub.handler(message)
        except Exception:
            log.exception("MQTT: handler for %s failed on a message from %s; dropped", sub.topic, message.topic)

    def _notify_connection(self, connected: bool) -> None:
        for listener in list(self._connect_listeners):

            def call(listener: Callable[[bool], None] = listener) -> None:
                try:
                    listener(connected)
                except Exception:
                    log.exception("MQTT: connection listener failed")

            self._dispatch(call)


_MISSING: Any = object()


def filter_covers(wide: str, narrow: str) -> bool:
    """Whether every topic matching `narrow` also matches `wide` (MQTT filters with + and #)."""
    wide_levels, narrow_levels = wide.split("/"), narrow.split("/")
    for i, level in enumerate(wide_levels):
        if level == "#":
            return True
        if i >= len(narrow_levels):
            return False
        other = narrow_levels[i]
        if other == "#" or (level != "+" and level != other):
            return False
    return len(wide_levels) == len(narrow_levels)


def wire_filters(filters: dict[str, int]) -> dict[str, int]:
    """The filters no other one covers, each with the highest QoS of the filters it covers."""
    kept = {f: q for f, q in filters.items() if not any(g != f and filter_covers(g, f) for g in filters)}
    for narrow, qos in filters.items():
        for wide in kept:
            if filter_covers(wide, narrow):
                kept[wide] = max(kept[wide], qos)
    return kept


# CONNECT, MQTT 5, clean start, keepalive 10 s, no properties, empty client id.
_MQTT5_PROBE = bytes([0x10, 0x0D, 0x00, 0x04, *b"MQTT", 0x05, 0x02, 0x00, 0x0A, 0x00, 0x00, 0x00])


def _downgrade_to_311(client: mqtt.Client) -> None:
    # paho itself downgrades 3.1.1 → 3.1 by changing _protocol between attempts; 3.1.1 also needs
    # the clean-session flag that the MQTT 5 constructor leaves unset.
    client._protocol = mqtt.MQTTv311
    client._clean_session = True


def probe_mqtt5(host: str, port: int, timeout: float = 3.0) -> bool | None:
    """Whether the broker answers an MQTT 5 CONNECT in kind: False when it says "unsupported protocol
    version" (amqtt), True for any other CONNACK, None when there is no answer (down, or silent)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(_MQTT5_PROBE)
            reply = sock.recv(8)
    except OSError:
        return None
    if len(reply) < 4 or reply[0] != 0x20:
        return None
    return not (reply[1] == 2 and reply[3] in (0x01, 0x84))
