from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hallq.cli import main
from hardware.printer import open_printer, render_ticket
from hardware.printer.layout import sample_ticket


def test_read_card_masked_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "read-card", "sim:?card=elderly", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["name"] == "王*国" and "*" in record["id_number"] and "address" not in record


def test_read_card_show_pii_for_installers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "read-card", "sim:?card=adult", "--show-pii"]) == 0
    out = capsys.readouterr().out
    assert "陈静" in out and "age: 30" in out and "photo_bytes: 1024" in out


def test_read_card_timeout_without_card(capsys: pytest.CaptureFixture[str]) -> None:
    from hardware.sim import get_simulator

    get_simulator("idcard").inject("no_card")
    assert main(["devices", "read-card", "sim:", "--timeout", "0.3"]) == 1
    assert "no card within 0.3s" in capsys.readouterr().err


def test_read_card_bad_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "read-card", "/dev/ttyUSB0"]) == 1
    assert "did you mean serial:///dev/ttyUSB0" in capsys.readouterr().err


def test_test_print_and_paper(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "test-print", "sim:"]) == 0
    assert "printed; paper: ok" in capsys.readouterr().out
    assert main(["devices", "test-print", "sim:", "--receipt"]) == 0
    assert "2 jobs" in capsys.readouterr().out
    assert main(["devices", "paper", "sim:?fault=paper_near_end"]) == 0
    assert capsys.readouterr().out.startswith("near_end")
    assert main(["devices", "paper", "sim:?fault=paper_out"]) == 1
    assert capsys.readouterr().out.startswith("out")


def test_paper_no_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "paper", "sim:other?fault=silent&timeout=0.1"]) == 2
    assert capsys.readouterr().out.strip() == "no_answer"


def test_test_print_paper_out_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "test-print", "sim:?fault=paper_out"]) == 1
    assert "缺纸" in capsys.readouterr().err


def test_list_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "list"]) == 0
    out = capsys.readouterr().out
    assert "Serial ports" in out and "USB devices" in out


def test_simulate_printer_on_a_socket_in_a_subprocess(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hallq.cli",
            "devices",
            "simulate",
            "printer",
            "--socket",
            "0",
            "--fault",
            "paper_near_end",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        line = process.stdout.readline()
        assert "printer simulator listening: socket://127.0.0.1:" in line
        url = line.split("listening: ")[1].strip()
        printer = open_printer(url)
        assert printer.print_ticket(sample_ticket()).value == "near_end"
        printer.close()
        process.stdout.readline()  # the "type a command" line
        process.stdin.write("status\n")
        process.stdin.flush()
        status = process.stdout.readline()
        assert f"{len(render_ticket(sample_ticket()))} bytes printed in 1 jobs" in status
    finally:
        process.terminate()
        process.wait(10)


def test_simulate_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "simulate", "printer", "--fault", "fire"]) == 2
    assert "unknown fault 'fire'" in capsys.readouterr().err


def test_simulate_idcard_on_a_pty_link_and_read_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "ttyIDCARD"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hallq.cli",
            "devices",
            "simulate",
            "idcard",
            "--pty",
            "--link",
            str(link),
            "--card",
            "elderly",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "presented sample card 'elderly'" in process.stdout.readline()
        assert f"listening: serial://{link}" in process.stdout.readline()
        assert main(["devices", "read-card", f"serial://{link}", "--json", "--timeout", "5"]) == 0
        assert json.loads(capsys.readouterr().out)["name"] == "王*国"
    finally:
        process.terminate()
        process.wait(10)
