"""Device URLs (DESIGN.md section 8), parsed: every device is named by one URL in configs and on the command line.

    serial:///dev/ttyUSB0?baudrate=115200     a serial port (USB-serial, RS-232, RS-485 adapter)
    usb://0416:5011?in=0x81&out=0x03          a raw USB device by vendor:product id and endpoints
    tcp://192.168.1.50:9100                   a network device (ESC/POS printers listen on 9100)
    file:///dev/usb/lp0                       a device file (write only)
    socket://127.0.0.1:7001                   a serial line tunnelled over TCP (pyserial's socket://)
    sim:  /  sim:name?fault=paper_out         the in-process simulator (one per kind and name)

`parse_device_url` turns the text into one `DeviceUrl`, or raises `DeviceUrlError` saying what is
wrong and how a correct URL looks.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, unquote, urlsplit

SCHEMES = ("serial", "usb", "tcp", "file", "socket", "sim", "loop")
EXAMPLES = (
    "serial:///dev/ttyUSB0?baudrate=115200, usb://0416:5011?in=0x81&out=0x03, tcp://192.168.1.50:9100, "
    "file:///dev/usb/lp0, socket://127.0.0.1:7001, sim:"
)


class DeviceUrlError(ValueError):
    """A device URL that cannot be used; the message names the URL and the problem."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"device URL {url!r}: {problem} (examples: {EXAMPLES})")
        self.url = url
        self.problem = problem


@dataclasses.dataclass(frozen=True)
class DeviceUrl:
    """One parsed device URL. `params` holds the query string (last value wins)."""

    text: str
    scheme: str
    path: str = ""  # serial/file: device path; sim: simulator name
    host: str = ""
    port: int = 0
    vid: int = 0
    pid: int = 0
    params: dict[str, str] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return self.text

    @property
    def is_sim(self) -> bool:
        return self.scheme == "sim"

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def int_param(self, name: str, default: int) -> int:
        """An integer query parameter, decimal or 0x-hex."""
        raw = self.params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw, 0)
        except ValueError:
            raise DeviceUrlError(self.text, f"parameter {name}={raw!r} is not a number") from None

    def float_param(self, name: str, default: float) -> float:
        raw = self.params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return float(raw)
        except ValueError:
            raise DeviceUrlError(self.text, f"parameter {name}={raw!r} is not a number") from None

    def bool_param(self, name: str, default: bool) -> bool:
        raw = self.params.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise DeviceUrlError(self.text, f"parameter {name}={raw!r} must be 1/0, true/false, yes/no")

    @property
    def faults(self) -> tuple[str, ...]:
        """Faults asked for on a sim: URL (`sim:?fault=paper_out,unplugged`)."""
        raw = self.params.get("fault", "")
        return tuple(f.strip() for f in raw.split(",") if f.strip())


def parse_device_url(text: str | DeviceUrl) -> DeviceUrl:
    """Parse a device URL, raising DeviceUrlError with a clear message when it is not usable."""
    if isinstance(text, DeviceUrl):
        return text
    text = (text or "").strip()
    if not text:
        raise DeviceUrlError(text, "empty")
    if ":" not in text:
        hint = f" — did you mean serial://{text}?" if text.startswith("/dev/") else ""
        raise DeviceUrlError(text, f"no scheme; use one of {', '.join(SCHEMES)}{hint}")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise DeviceUrlError(text, f"unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)}")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    netloc = unquote(parts.netloc)
    path = unquote(parts.path)
    if scheme == "sim":
        return DeviceUrl(text, scheme, path=(netloc + path).strip("/"), params=params)
    if scheme == "loop":
        return DeviceUrl(text, scheme, params=params)
    if scheme in ("serial", "file"):
        device = path or netloc  # serial://COM3 on Windows has the port in the netloc
        if netloc and path:
            device = netloc + path  # serial://dev/ttyUSB0 (two slashes) — be forgiving
            if not device.startswith("/"):
                device = "/" + device
        if not device:
            raise DeviceUrlError(text, f"no device path; write {scheme}:///dev/…")
        return DeviceUrl(text, scheme, path=device, params=params)
    if scheme == "usb":
        return _parse_usb(text, netloc, params)
    host, port = _host_port(text, netloc, default_port=9100 if scheme == "tcp" else None)
    return DeviceUrl(text, scheme, host=host, port=port, params=params)


def _parse_usb(text: str, netloc: str, params: dict[str, str]) -> DeviceUrl:
    ids = netloc.split(":")
    if len(ids) != 2 or not all(ids):
        raise DeviceUrlError(text, "usb:// needs VENDOR:PRODUCT in hex, like usb://0416:5011")
    try:
        vid, pid = (int(i, 16) for i in ids)
    except ValueError:
        raise DeviceUrlError(text, f"vendor/product {netloc!r} are not hex numbers") from None
    if not (0 <= vid <= 0xFFFF and 0 <= pid <= 0xFFFF):
        raise DeviceUrlError(text, "vendor and product ids are 16-bit (0000..ffff)")
    url = DeviceUrl(text, "usb", vid=vid, pid=pid, params=params)
    for endpoint in ("in", "out"):
        if endpoint in params:
            value = url.int_param(endpoint, 0)
            if not 0 < value <= 0xFF:
                raise DeviceUrlError(text, f"endpoint {endpoint}={params[endpoint]} is not 0x01..0xff")
    return url


def _host_port(text: str, netloc: str, default_port: int | None) -> tuple[str, int]:
    host, sep, port_text = netloc.rpartition(":")
    if not sep:
        host, port_text = netloc, ""
    host = host.strip("[]")
    if not host:
        raise DeviceUrlError(text, "no host; write scheme://HOST:PORT")
    if not port_text:
        if default_port is None:
            raise DeviceUrlError(text, "no port; write scheme://HOST:PORT")
        return host, default_port
    try:
        port = int(port_text)
    except ValueError:
        raise DeviceUrlError(text, f"port {port_text!r} is not a number") from None
    if not 0 < port < 65536:
        raise DeviceUrlError(text, f"port {port} is out of range 1..65535")
    return host, port
