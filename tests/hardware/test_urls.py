from __future__ import annotations

import pytest

from hardware.urls import DeviceUnavailable, DeviceUrlError, open_serial, parse_device_url


def test_serial_url_with_baudrate() -> None:
    url = parse_device_url("serial:///dev/ttyUSB0?baudrate=115200")
    assert (url.scheme, url.path, url.int_param("baudrate", 9600)) == ("serial", "/dev/ttyUSB0", 115200)


def test_windows_com_port() -> None:
    assert parse_device_url("serial://COM3").path == "COM3"


def test_usb_url_with_endpoints() -> None:
    url = parse_device_url("usb://0416:5011?in=0x81&out=0x03")
    assert (url.vid, url.pid, url.int_param("in", 0), url.int_param("out", 0)) == (0x0416, 0x5011, 0x81, 0x03)


def test_tcp_default_port_is_9100() -> None:
    assert parse_device_url("tcp://192.168.1.50").port == 9100
    assert parse_device_url("tcp://printer.local:9101").port == 9101


def test_file_socket_and_sim_urls() -> None:
    assert parse_device_url("file:///dev/usb/lp0").path == "/dev/usb/lp0"
    sock = parse_device_url("socket://127.0.0.1:7001")
    assert (sock.host, sock.port) == ("127.0.0.1", 7001)
    sim = parse_device_url("sim:front?fault=paper_out,cover_open")
    assert sim.is_sim and sim.path == "front" and sim.faults == ("paper_out", "cover_open")
    assert parse_device_url("sim:").path == ""


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("/dev/ttyUSB0", "did you mean serial:///dev/ttyUSB0"),
        ("ftp://host", "unknown scheme 'ftp'"),
        ("usb://0416", "VENDOR:PRODUCT"),
        ("usb://zz16:5011", "not hex"),
        ("usb://0416:5011?in=0x100", "endpoint in"),
        ("socket://host", "no port"),
        ("socket://host:99999", "out of range"),
        ("tcp://:9100", "no host"),
        ("serial://", "no device path"),
    ],
)
def test_bad_urls_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(DeviceUrlError, match=problem) as info:
        parse_device_url(text)
    assert "examples:" in str(info.value)


def test_bad_numeric_parameter() -> None:
    with pytest.raises(DeviceUrlError, match="baudrate='fast' is not a number"):
        parse_device_url("serial:///dev/ttyUSB0?baudrate=fast").int_param("baudrate", 9600)


def test_open_serial_missing_device_is_unavailable() -> None:
    with pytest.raises(DeviceUnavailable, match="cannot open serial:///dev/does-not-exist"):
        open_serial("serial:///dev/does-not-exist")


def test_open_serial_refuses_non_serial_schemes() -> None:
    with pytest.raises(DeviceUrlError, match="not a serial line"):
        open_serial("tcp://127.0.0.1:9100")


def test_open_serial_loop_url_echoes() -> None:
    port = open_serial("loop://", timeout=0.1)
    port.write(b"ping")
    assert port.read(4) == b"ping"
    port.close()
