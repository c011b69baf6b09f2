"""Opening devices by URL (DESIGN.md section 8). The URL syntax and its parser live in
`hardware.device_url` (re-exported here); this module opens byte streams to what they name, the
in-process simulators (`sim:`) included.
"""

from __future__ import annotations

from typing import Protocol

from hardware.device_url import EXAMPLES, SCHEMES, DeviceUrl, DeviceUrlError, parse_device_url

__all__ = [
    "DEFAULT_TIMEOUT",
    "EXAMPLES",
    "PORT_ERRORS",
    "SCHEMES",
    "DeviceUnavailable",
    "DeviceUrl",
    "DeviceUrlError",
    "SerialLike",
    "open_serial",
    "parse_device_url",
]

DEFAULT_TIMEOUT = 0.05  # seconds one read() waits; drivers loop with their own deadlines


def open_serial(
    url: str | DeviceUrl,
    *,
    kind: str = "",
    baudrate: int = 9600,
    timeout: float = DEFAULT_TIMEOUT,
) -> SerialLike:
    """Open a byte stream to a device: serial://, socket://, loop:// through pyserial's
    `serial_for_url`, or sim: to the in-process simulator of `kind` (see hardware.sim).

    Query parameters baudrate, bytesize, parity (N/E/O), stopbits override the defaults.
    Raises DeviceUrlError for an unusable URL and DeviceUnavailable when the port cannot be opened.
    """
    parsed = parse_device_url(url)
    if parsed.is_sim:
        from hardware.sim import attach_port

        return attach_port(kind, parsed, timeout=timeout)
    import serial

    if parsed.scheme == "serial":
        target = parsed.path
    elif parsed.scheme == "socket":
        target = f"socket://{parsed.host}:{parsed.port}"
    elif parsed.scheme == "loop":
        target = "loop://"
    else:
        raise DeviceUrlError(parsed.text, f"{parsed.scheme}:// is not a serial line; use serial://, socket:// or sim:")
    parity = (parsed.param("parity", "N") or "N").upper()[:1]
    if parity not in ("N", "E", "O", "M", "S"):
        raise DeviceUrlError(parsed.text, f"parity={parity!r} must be N, E or O")
    try:
        port = serial.serial_for_url(
            target,
            baudrate=parsed.int_param("baudrate", baudrate),
            bytesize=parsed.int_param("bytesize", 8),
            parity=parity,
            stopbits=parsed.float_param("stopbits", 1) if parsed.param("stopbits") else 1,
            timeout=timeout,
            write_timeout=max(1.0, timeout),
        )
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceUnavailable(f"cannot open {parsed.text}: {exc}") from exc
    return port  # type: ignore[no-any-return]


def _port_errors() -> tuple[type[BaseException], ...]:
    try:
        import termios
    except ImportError:  # Windows
        return (OSError,)
    return (OSError, termios.error)


# what a serial port raises when its device vanished: pyserial raises SerialException (an OSError),
# but on a hung-up tty tcflush() lets termios.error (not an OSError) through
PORT_ERRORS = _port_errors()


class DeviceUnavailable(OSError):
    """The device is not there (unplugged, wrong path, refused, no permission)."""


class SerialLike(Protocol):
    """The subset of pyserial's Serial that drivers use; sim ports implement it too."""

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...

    @property
    def is_open(self) -> bool: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def reset_input_buffer(self) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...
