"""Prints made at a window's own printer (the hall config's `windows[].printer`, a device URL): the
收件通知书 of a case received there, the 《材料交接表》 it hands to a department.

The slips are built from the case and sheet views (masked names only) and laid out by
`hardware.printer.layout`, the same bytes the kiosk prints; a printer that is missing, off or out of
paper never undoes the case: the answer says it did not print, and the office can print again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hallq.config import HallConfig
from hardware.device_url import DeviceUrlError
from hardware.printer.driver import PrinterError, open_printer
from hardware.printer.layout import (
    HandoverLine,
    HandoverSlip,
    LayoutOptions,
    ReceiptSlip,
    render_handover,
    render_receipt,
)
from hardware.printer.preview import preview

_ACCESS_KEY = re.compile(r"([?&]k=)[^\]\s&]+")


def _shown(text: str) -> str:
    """The slip as the office screen shows it: the QR's access key is the citizen's, not the clerk's."""
    return _ACCESS_KEY.sub(r"\1…", text)


@dataclass(frozen=True)
class PrintOutcome:
    printed: bool
    message: str
    preview: str  # the slip as text, for the office page


def _local(config: HallConfig, iso: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(iso).astimezone(config.hall.tz()) if iso else None


def _date(iso: str | None) -> dt.date | None:
    return dt.date.fromisoformat(iso) if iso else None


def receipt_slip(config: HallConfig, view: dict[str, Any], status_url: str) -> ReceiptSlip:
    """The 收件通知书 of a received case: what was received, what is owed under 容缺, the QR."""
    materials = view["materials"]
    received_at = _local(config, view["times"]["received_at"])
    assert received_at is not None, "a receipt is printed for a received case"
    return ReceiptSlip(
        hall_name=config.hall.name,
        receipt_number=view["receipt_no"],
        service_item=view["item_name"],
        applicant=view["masked_name"],
        received_at=received_at,
        materials_received=[m["name"] for m in materials if m["status"] == "provided"],
        materials_missing=[m["name"] for m in materials if m["status"] == "deferred"],
        supplement_by=_date(view["deadlines"]["deferred_due"]),
        promised_by=_date(view["deadlines"]["decide_due"]),
        status_url=status_url,
        contact=config.hall.phone,
    )


def bundle_receipt_slip(
    config: HallConfig, bundle: dict[str, Any], parts: list[dict[str, Any]], status_url: str
) -> ReceiptSlip:
    """One 收件通知书 for a 一件事: its receipt number, every part's materials, the one promise."""
    received_at = _local(config, bundle["received_at"])
    assert received_at is not None
    deferred_dues = [d for p in parts if (d := _date(p["deadlines"]["deferred_due"]))]
    return ReceiptSlip(
        hall_name=config.hall.name,
        receipt_number=bundle["receipt_no"],
        service_item=f"{bundle['name']}（一件事，含{len(parts)}项）",
        applicant=bundle["masked_name"],
        received_at=received_at,
        materials_received=[m["name"] for p in parts for m in p["materials"] if m["status"] == "provided"],
        materials_missing=[m["name"] for p in parts for m in p["materials"] if m["status"] == "deferred"],
        supplement_by=min(deferred_dues) if deferred_dues else None,
        promised_by=_date(bundle["promised_due"]),
        status_url=status_url,
        contact=config.hall.phone,
    )


def handover_slip(config: HallConfig, sheet: dict[str, Any]) -> HandoverSlip:
    window = config.window(sheet["window"] or "")
    created = _local(config, sheet["created_at"])
    assert created is not None
    return HandoverSlip(
        hall_name=config.hall.name,
        sheet_number=sheet["id"],
        title=sheet["title"],
        from_desk=window.name if window else "综合受理窗口",
        to_desk=sheet["department"],
        handed_by=sheet["created_by"].split(":", 1)[-1],
        created_at=created,
        lines=[
            HandoverLine(
                receipt_number=i["receipt_no"],
                service_item=i["item_name"],
                applicant=i["masked_name"],
                materials=i["materials"],
                due=_local(config, i["due_at"]),
            )
            for i in sheet["items"]
        ],
    )


def print_at_window(config: HallConfig, window: str | None, render: Callable[[LayoutOptions], bytes]) -> PrintOutcome:
    """Lay out for the window's printer (its URL's paper width and profile) and print; any failure is
    reported, never raised."""
    found = config.window(window or "")
    if found is None or not found.printer:
        text = _shown(preview(render(LayoutOptions())))
        return PrintOutcome(False, f"{found.name if found else '该窗口'}未配置打印机，可在页面上查看", text)
    try:
        printer = open_printer(found.printer)
        data = render(printer.options)
        try:
            printer.print_bytes(data)
        finally:
            printer.close()
    except (PrinterError, DeviceUrlError, OSError) as exc:
        return PrintOutcome(False, f"打印失败：{exc}", _shown(preview(render(LayoutOptions()))))
    return PrintOutcome(True, f"已在{found.name}打印", _shown(preview(data, printer.options.columns)))


def print_receipt(config: HallConfig, window: str | None, view: dict[str, Any], status_url: str) -> PrintOutcome:
    slip = receipt_slip(config, view, status_url)
    return print_at_window(config, window, lambda options: render_receipt(slip, options))


def print_bundle_receipt(
    config: HallConfig, window: str, bundle: dict[str, Any], parts: list[dict[str, Any]], status_url: str
) -> PrintOutcome:
    slip = bundle_receipt_slip(config, bundle, parts, status_url)
    return print_at_window(config, window, lambda options: render_receipt(slip, options))


def print_handover(config: HallConfig, sheet: dict[str, Any]) -> PrintOutcome:
    slip = handover_slip(config, sheet)
    return print_at_window(config, sheet["window"], lambda options: render_handover(slip, options))
