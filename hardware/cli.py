"""`hallq devices …`: probe, read, print, and simulate hardware (for installers and demos).

hallq devices list
hallq devices read-card URL [--json] [--show-pii] [--timeout S]
hallq devices test-print URL [--receipt]
hallq devices paper URL
hallq devices simulate idcard|printer|keypad|led|scanner|evaluator|locker [--pty [--link PATH]]
                       [--socket PORT] [--fault NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any

KINDS = ("idcard", "printer", "keypad", "led", "scanner", "evaluator", "locker")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    devices = sub.add_parser("devices", help="probe, test and simulate hardware (ID card reader, printer, …)")
    actions = devices.add_subparsers(dest="devices_command", metavar="ACTION")

    listing = actions.add_parser("list", help="show the serial ports, USB devices and input devices present")
    listing.set_defaults(func=run_list)

    card = actions.add_parser("read-card", help="read one ID card and print it (masked)")
    card.add_argument("url", help="reader URL, e.g. serial:///dev/ttyUSB0?baudrate=115200 or sim:?card=elderly")
    card.add_argument("--json", action="store_true", help="print JSON")
    card.add_argument("--show-pii", action="store_true", help="print the whole record (installers only)")
    card.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a card (default 10)")
    card.set_defaults(func=run_read_card)

    test_print = actions.add_parser("test-print", help="print a sample ticket")
    test_print.add_argument("url", help="printer URL, e.g. usb://0416:5011?in=0x81&out=0x03 or tcp://10.0.0.9")
    test_print.add_argument("--receipt", action="store_true", help="print a sample 收件通知书 instead")
    test_print.set_defaults(func=run_test_print)

    paper = actions.add_parser("paper", help="ask the printer for its paper state (DLE EOT 4)")
    paper.add_argument("url")
    paper.set_defaults(func=run_paper)

    simulate = actions.add_parser("simulate", help="run a simulated device on a pty or TCP port")
    simulate.add_argument("kind", choices=KINDS)
    simulate.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (default)")
    simulate.add_argument("--link", help="with --pty: keep a symlink to the pty here (like /dev/serial/by-id)")
    simulate.add_argument("--socket", type=int, metavar="PORT", help="serve on 127.0.0.1:PORT (0 = any free)")
    simulate.add_argument("--fault", action="append", default=[], help="fault to start with (repeatable)")
    simulate.add_argument("--card", help="idcard: present this sample card (elderly, adult) or a .bin frame")
    simulate.set_defaults(func=run_simulate)

    devices.set_defaults(func=lambda _args: (devices.print_help(), 2)[1])


# -- list ----------------------------------------------------------------------------------------------
def run_list(args: argparse.Namespace) -> int:
    from hardware.probe import input_devices, serial_ports, usb_devices

    print("Serial ports (ID card readers, RS-485 adapters, serial printers and scanners):")
    ports = serial_ports()
    for port in ports:
        print(f"  {port.url:<44} {port.description}")
    if not ports:
        print("  (none)")
    print("USB devices:")
    usb, problem = usb_devices()
    for device in usb:
        print(f"  {device.url:<44} {device.description}")
    if problem:
        print(f"  ({problem})")
    elif not usb:
        print("  (none)")
    print("Keyboard-like input devices (HID scanners):")
    inputs = input_devices()
    for device in inputs:
        print(f"  {device.url:<44} {device.description}")
    if not inputs:
        print("  (none readable — see docs/hardware.md for the udev rule)")
    return 0


# -- read-card ------------------------------------------------------------------------------------------
def run_read_card(args: argparse.Namespace) -> int:
    import datetime as dt

    from hardware.idcard import IdCardError, read_one_card
    from hardware.idcard.card import CardDataError
    from hardware.urls import DeviceUrlError, parse_device_url

    try:
        url = parse_device_url(args.url)
        if url.is_sim:
            _present_sim_card(url)
        card = read_one_card(url, timeout=args.timeout)
    except (DeviceUrlError, IdCardError, CardDataError, OSError) as exc:
        print(f"read-card: {exc}", file=sys.stderr)
        return 1
    if card is None:
        print(f"read-card: no card within {args.timeout:g}s", file=sys.stderr)
        return 1
    record: dict[str, Any] = card.as_record() if args.show_pii else card.masked_record()
    if args.show_pii:
        record["photo_bytes"] = len(card.photo)
        record["age"] = card.age_on(dt.date.today())
    if args.json:
        print(json.dumps(record, ensure_ascii=False, indent=1))
    else:
        for key, value in record.items():
            print(f"{key:>12}: {value}")
    return 0


def _present_sim_card(url: Any) -> None:
    from hardware.sim import get_simulator

    simulator = get_simulator("idcard", url.path)
    if not simulator.has_card:  # type: ignore[attr-defined]
        simulator.present(url.param("card", "adult"))  # type: ignore[attr-defined]


# -- printer -------------------------------------------------------------------------------------------
def _have_escpos() -> bool:
    try:
        import escpos  # noqa: F401
    except ImportError:
        print("the printer driver needs python-escpos: pip install 'hallq[hardware]'", file=sys.stderr)
        return False
    return True


def run_test_print(args: argparse.Namespace) -> int:
    import datetime as dt

    if not _have_escpos():
        return 2

    from hardware.printer import PrinterError, ReceiptSlip, open_printer
    from hardware.printer.layout import sample_ticket
    from hardware.urls import DeviceUrlError, parse_device_url

    try:
        printer = open_printer(args.url)
        if args.receipt:
            now = dt.datetime.now()
            paper = printer.print_receipt(
                ReceiptSlip(
                    hall_name="示范政务服务中心",
                    receipt_number="SJ20260105-0001",
                    service_item="城乡居民基本养老保险参保登记",
                    applicant="张*",
                    received_at=now,
                    materials_received=("居民身份证复印件", "户口簿复印件"),
                    materials_missing=("一寸照片",),
                    supplement_by=(now + dt.timedelta(days=5)).date(),
                    promised_by=(now + dt.timedelta(days=7)).date(),
                    status_url="https://hall.example.cn/r/SJ20260105-0001",
                    contact="0511-12345",
                )
            )
        else:
            paper = printer.print_ticket(sample_ticket(dt.datetime.now()))
    except (DeviceUrlError, PrinterError) as exc:
        print(f"test-print: {exc}", file=sys.stderr)
        return 1
    print(f"printed; paper: {paper.value}")
    if args.url.startswith("sim:"):
        from hardware.printer.simulator import SimulatedPrinter
        from hardware.sim import get_simulator

        simulator = get_simulator("printer", parse_device_url(args.url).path)
        assert isinstance(simulator, SimulatedPrinter)
        print(simulator.describe())
        print(simulator.preview(columns=printer.options.columns))
    return 0


def run_paper(args: argparse.Namespace) -> int:
    if not _have_escpos():
        return 2
    from hardware.printer import PaperState, PrinterError, open_printer
    from hardware.urls import DeviceUrlError

    try:
        printer = open_printer(args.url)
        paper = printer.paper_status()
        status = printer.status() if paper is not PaperState.NO_ANSWER else None
    except (DeviceUrlError, PrinterError) as exc:
        print(f"paper: {exc}", file=sys.stderr)
        return 2
    print(paper.value + (f" ({status.summary})" if status else ""))
    return {PaperState.OK: 0, PaperState.NEAR_END: 0, PaperState.OUT: 1}.get(paper, 2)


# -- simulate ------------------------------------------------------------------------------------------
def run_simulate(args: argparse.Namespace) -> int:
    from hardware.sim import new_simulator
    from hardware.sim.endpoints import PtyEndpoint, SocketEndpoint

    device = new_simulator(args.kind)
    for fault in args.fault:
        try:
            device.inject(fault)
        except ValueError as exc:
            print(f"simulate: {exc}", file=sys.stderr)
            return 2
    if args.card:
        print(device.command(f"present {args.card}"))
    endpoints: list[Any] = []
    if args.socket is not None:
        endpoints.append(SocketEndpoint(device, port=args.socket))
    if args.pty or args.socket is None:
        endpoints.append(PtyEndpoint(device, link=args.link))
    for endpoint in endpoints:
        print(f"{args.kind} simulator listening: {endpoint.url}", flush=True)
    print("type a command (help for the list); Ctrl-C to stop", flush=True)
    try:
        _command_loop(device)
    except KeyboardInterrupt:
        pass
    finally:
        for endpoint in endpoints:
            endpoint.close()
    return 0


def _command_loop(device: Any) -> None:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            reply = device.command(line)
        except (ValueError, IndexError) as exc:
            reply = f"error: {exc}"
        print(reply, flush=True)
    threading.Event().wait()  # stdin closed (running in the background): keep serving until killed
