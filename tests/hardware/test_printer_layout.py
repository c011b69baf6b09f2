"""The pure ticket and receipt layouts, checked byte for byte.

Golden files were produced by these layouts and read through by hand, command by command (the text
preview in docs/hardware.md shows the ticket); rerun with HALLQ_UPDATE_GOLDEN=1 after an intended
layout change and review the diff.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from escpos.printer import Dummy

from hardware.printer.layout import (
    HandoverLine,
    HandoverSlip,
    LayoutOptions,
    ReceiptSlip,
    TicketSlip,
    render_handover,
    render_receipt,
    render_ticket,
    sample_ticket,
    text_width,
    wait_text,
    wrap,
)
from hardware.printer.preview import preview
from tests.hardware.conftest import GOLDEN

GS_QR_STORE = b"\x1d(k"
CUT = b"\x1dV\x00"
RECEIPT = ReceiptSlip(
    hall_name="示范政务服务中心",
    receipt_number="SJ20260105-0001",
    service_item="城乡居民基本养老保险参保登记",
    applicant="张*",
    received_at=dt.datetime(2026, 1, 5, 10, 30),
    materials_received=("居民身份证复印件", "户口簿复印件"),
    materials_missing=("一寸照片",),
    supplement_by=dt.date(2026, 1, 10),
    promised_by=dt.date(2026, 1, 12),
    status_url="https://hall.example.cn/r/SJ20260105-0001",
    contact="0511-12345",
)


def golden(name: str, data: bytes) -> bytes:
    path = GOLDEN / name
    if os.environ.get("HALLQ_UPDATE_GOLDEN"):
        path.write_bytes(data)
    return path.read_bytes()


def test_ticket_golden_bytes() -> None:
    data = render_ticket(sample_ticket())
    assert data == golden("ticket_native_qr.bin", data)


def test_ticket_image_qr_golden_bytes() -> None:
    data = render_ticket(sample_ticket(), LayoutOptions(profile="POS-5890"))
    assert data == golden("ticket_image_qr_pos5890.bin", data)


def test_receipt_golden_bytes() -> None:
    data = render_receipt(RECEIPT, LayoutOptions(columns=48, profile="TM-T20II"))
    assert data == golden("receipt_80mm.bin", data)


def test_ticket_structure_by_hand() -> None:
    data = render_ticket(sample_ticket())
    assert data.startswith(b"\x1b@\x1c&")  # ESC @ init, FS & Chinese mode
    # hall name: GS ! 0x11 (double), bold on, centred, then GB18030 text
    assert data[4:14] == b"\x1d!\x11\x1bE\x01\x1ba\x01" + "示".encode("gb18030")[:1]
    assert "示范政务服务中心\n".encode("gb18030") in data
    assert b"\x1d!\x33\x1bE\x01\x1ba\x01A012\n" in data  # the big number: 4x4
    assert "您前面还有 3 人等候".encode("gb18030") in data
    assert "预计等候：约 9 分钟".encode("gb18030") in data
    assert "取号时间：2026-01-05 09:15".encode("gb18030") in data
    url = sample_ticket().status_url.encode()
    # native QR: model 2, size 6, EC level M (49 = '1'), store data (len+3), print
    assert b"\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C\x06\x1d(k\x03\x001E1" in data
    assert b"\x1d(k" + (len(url) + 3).to_bytes(2, "little") + b"1P0" + url in data
    assert b"\x1d(k\x03\x001Q0" in data
    assert data.endswith(b"\x1bd\x06" + CUT)  # feed 6 lines, full cut


def test_ticket_never_carries_utf8_for_chinese() -> None:
    data = render_ticket(sample_ticket())
    assert "社保医保".encode() not in data
    assert "社保医保".encode("gb18030") in data


def test_image_fallback_has_no_native_qr_but_a_raster() -> None:
    data = render_ticket(sample_ticket(), LayoutOptions(profile="POS-5890"))
    assert GS_QR_STORE not in data
    assert b"\x1dv0" in data  # GS v 0 raster bit image
    forced = render_ticket(sample_ticket(), LayoutOptions(qr="image"))
    assert GS_QR_STORE not in forced and b"\x1dv0" in forced


def test_native_qr_can_be_forced_on_a_profile_without_it() -> None:
    data = render_ticket(sample_ticket(), LayoutOptions(profile="POS-5890", qr="native"))
    assert GS_QR_STORE in data


def test_ticket_without_url_has_no_qr_and_green_label() -> None:
    issued = dt.datetime(2026, 1, 5, 9, 0)
    slip = TicketSlip("示范政务服务中心", "G003", "综合出件", 0, 0, issued, priority_label="绿色通道")
    data = render_ticket(slip)
    assert GS_QR_STORE not in data and b"\x1dv0" not in data
    assert "【绿色通道】".encode("gb18030") in data
    assert "预计等候：即将叫号".encode("gb18030") in data


def test_no_cut_option_feeds_instead() -> None:
    data = render_ticket(sample_ticket(), LayoutOptions(cut=False))
    assert CUT not in data and data.endswith(b"\n\n\n\n")


def test_receipt_lists_materials_and_deadlines() -> None:
    data = render_receipt(RECEIPT)
    for text in (
        "收件通知书",
        "收件编号：SJ20260105-0001",
        "1. 居民身份证复印件",
        "2. 户口簿复印件",
        "容缺材料（请按期补交）：",
        "1. 一寸照片",
        "补交期限：2026-01-10前",
        "承诺办结：2026-01-12前",
        "申请人：张*",
    ):
        assert text.encode("gb18030") in data, text
    assert GS_QR_STORE in data and data.endswith(CUT)


def test_receipt_without_missing_materials() -> None:
    slip = ReceiptSlip("中心", "R1", "事项", "李*", dt.datetime(2026, 1, 5), ("材料",))
    data = render_receipt(slip)
    assert "容缺".encode("gb18030") not in data and GS_QR_STORE not in data


def test_layout_matches_what_dummy_would_get() -> None:
    dummy = Dummy()
    dummy._raw(render_ticket(sample_ticket()))
    assert dummy.output == render_ticket(sample_ticket())


def test_wrap_and_widths() -> None:
    assert text_width("A012") == 4 and text_width("社保") == 4
    assert wrap("请留意叫号屏幕和语音提示", 8) == ["请留意叫", "号屏幕和", "语音提示"]
    assert wrap("", 8) == [""]
    assert wrap("ab社保", 5) == ["ab社", "保"]
    assert wait_text(None) == "" and wait_text(61) == "预计等候：约 2 分钟"


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="qr mode"):
        LayoutOptions(qr="laser")
    with pytest.raises(ValueError, match="columns"):
        LayoutOptions(columns=300)


def test_text_preview_of_the_ticket() -> None:
    from hardware.printer.preview import preview

    lines = preview(render_ticket(sample_ticket())).splitlines()
    assert lines[0].strip() == "示 范 政 务 服 务 中 心" and lines[1].strip() == "排队凭条"
    assert "A 0 1 2" in lines[3]
    assert "您前面还有 3 人等候" in lines and "[QR https://hall.example.cn/t/demo/0b7c2e?k=3f9a]" in lines
    assert lines[-1].startswith("------ cut")
    image = preview(render_ticket(sample_ticket(), LayoutOptions(profile="POS-5890")))
    assert "[image 216x210]" in image and "QR" not in image
    receipt = preview(render_receipt(RECEIPT, LayoutOptions(columns=48)), 48)
    assert "1. 一寸照片" in receipt.splitlines()


DUE = dt.datetime(2026, 10, 8, 10, 0)
HANDOVER = HandoverSlip(
    hall_name="示范政务服务中心",
    sheet_number="JJ202610080001",
    title="材料交接表",
    from_desk="4号窗口",
    to_desk="卫健",
    handed_by="clerk4",
    created_at=dt.datetime(2026, 10, 8, 9, 40),
    lines=(
        HandoverLine(
            "SJ202609300001", "公共场所卫生许可", "张*", ("卫生许可申请表", "营业执照"), dt.datetime(2026, 10, 8, 10, 0)
        ),
        HandoverLine("SJ202609300002", "企业设立登记", "欧*明", ("公司章程",), dt.datetime(2026, 10, 8, 10, 0)),
    ),
)


def test_handover_sheet_golden_bytes_and_what_it_prints() -> None:
    """The 《材料交接表》 a window prints for a department: byte for byte, and rendered as the paper reads."""
    data = render_handover(HANDOVER)
    assert data == golden("handover_58mm.bin", data)
    assert data.startswith(b"\x1b@\x1c&") and data.endswith(CUT) and "材料交接表".encode("gb18030") in data
    assert preview(data).splitlines()[:24] == [
        "        示范政务服务中心",
        "         材 料 交 接 表",
        "交接单号：JJ202610080001",
        "移交：4号窗口（clerk4）",
        "接收：卫健",
        "移交时间：2026-10-08 09:40",
        "--------------------------------",
        "1. SJ202609300001",
        "事项：公共场所卫生许可",
        "申请人：张*",
        "材料：卫生许可申请表、营业执照",
        "送达时限：10-08 10:00前",
        "--------------------------------",
        "2. SJ202609300002",
        "事项：企业设立登记",
        "申请人：欧*明",
        "材料：公司章程",
        "送达时限：10-08 10:00前",
        "--------------------------------",
        "共 2 件",
        "接收人签字：",
        "",
        "签收时间：",
        "",
    ]
