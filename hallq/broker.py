"""The embedded MQTT broker (amqtt) that `hallq server` runs when no broker URL is configured.

It listens on 127.0.0.1 only (port 1883 unless set) and accepts anonymous local clients, so one
command runs a whole hall on one machine. It speaks MQTT 3.1.1 (the bus client falls back to it), it
keeps retained messages in memory only (the publisher republishes every retained topic when it
connects), and it has no ACL: halls with devices on the network use Mosquitto with
config/mosquitto.conf.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Any

from hallq.ports import free_ports

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1883


class BrokerPortInUse(RuntimeError):
    """The port for the embedded broker is taken; the message names the option to change it."""


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def port_in_use_message(host: str, port: int, option: str = "--mqtt-port") -> str:
    return (
        f"the embedded MQTT broker cannot listen on {host}:{port}: the port is already in use "
        f"(another broker, e.g. a system Mosquitto?). Choose another port with {option} PORT, "
        f"or use that broker with --mqtt mqtt://{host}:{port}"
    )


class EmbeddedBroker:
    """amqtt in this process's asyncio loop: `await start()`, `await stop()`; `.url` for clients."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, port_option: str = "--mqtt-port") -> None:
        self.host = host
        self.port = port
        self.port_option = port_option
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}?protocol=3.1.1"

    async def start(self) -> None:
        if self.port == 0:
            [self.port] = free_ports([0], self.host)
        if not port_free(self.host, self.port):
            raise BrokerPortInUse(port_in_use_message(self.host, self.port, self.port_option))
        from amqtt.broker import Broker  # the server extra; devices never import it

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}", "max_connections": 0}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        _quiet_amqtt()
        self._broker = Broker(config, loop=asyncio.get_running_loop())
        try:
            await self._broker.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BrokerPortInUse(port_in_use_message(self.host, self.port, self.port_option)) from None
            raise
        except Exception as exc:  # amqtt wraps bind errors in BrokerError
            if "address already in use" in str(exc).lower():
                raise BrokerPortInUse(port_in_use_message(self.host, self.port, self.port_option)) from None
            raise
        log.info("embedded MQTT broker (amqtt, MQTT 3.1.1) listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._broker is not None:
            broker, self._broker = self._broker, None
            try:
                await broker.shutdown()
            except Exception:
                log.exception("embedded MQTT broker did not shut down cleanly")


def _quiet_amqtt() -> None:
    # amqtt logs every connection and packet at INFO, and warns about each MQTT 5 probe the bus
    # client makes (hallq.bus.probe_mqtt5); a hall's log should show ours.
    for name in ("amqtt", "transitions"):
        logging.getLogger(name).setLevel(logging.ERROR)
