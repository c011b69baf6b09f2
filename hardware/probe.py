"""What hardware is plugged in, with the device URL to use for each (`hallq devices list`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

USB_CLASS_NAMES = {0x02: "communications (USB-serial)", 0x03: "HID (keyboard-mode scanner?)", 0x07: "printer"}


@dataclasses.dataclass(frozen=True)
class Found:
    url: str
    description: str


def serial_ports() -> list[Found]:
    from serial.tools import list_ports

    found = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        ids = f" [{port.vid:04x}:{port.pid:04x}]" if port.vid is not None and port.pid is not None else ""
        found.append(Found(f"serial://{port.device}", f"{port.description or 'serial port'}{ids}"))
    by_id = Path("/dev/serial/by-id")
    if by_id.is_dir():
        for link in sorted(by_id.iterdir()):
            found.append(Found(f"serial://{link}", f"stable name for {link.resolve()}"))
    return found


def usb_devices() -> tuple[list[Found], str]:
    """USB devices and a problem sentence when USB cannot be listed (no pyusb, no libusb)."""
    try:
        import usb.core
    except ImportError:
        return [], "pyusb is not installed: pip install 'hallq[hardware]'"
    try:
        devices = list(usb.core.find(find_all=True))
    except usb.core.NoBackendError:
        return [], "libusb is not installed (apt install libusb-1.0-0)"
    except usb.core.USBError as exc:
        return [], f"cannot list USB devices: {exc}"
    found = []
    for device in devices:
        if device.bDeviceClass == 0x09:  # hubs
            continue
        kind = _usb_kind(device)
        found.append(Found(f"usb://{device.idVendor:04x}:{device.idProduct:04x}", kind))
    return found, ""


def _usb_kind(device: object) -> str:
    classes = {getattr(device, "bDeviceClass", 0)}
    try:
        for config in device:  # type: ignore[attr-defined]
            for interface in config:
                classes.add(interface.bInterfaceClass)
    except Exception:  # reading descriptors may need permissions; the ids are still useful
        pass
    names = [USB_CLASS_NAMES[c] for c in sorted(classes) if c in USB_CLASS_NAMES]
    return ", ".join(names) or "USB device"


def input_devices() -> list[Found]:
    by_id = Path("/dev/input/by-id")
    if not by_id.is_dir():
        return []
    return [
        Found(f"file://{link}", f"-> {link.resolve().name}")
        for link in sorted(by_id.iterdir())
        if link.name.endswith("-event-kbd")
    ]
