"""The submission flow's small parts: document sources (watched folder, demo pages, camera command),
the signature PNG, the draft state file."""

from __future__ import annotations

import io
import json
import queue
import sys
from pathlib import Path

import pytest
from PIL import Image

from kiosk.submission.documents import (
    CameraSource,
    DemoSource,
    DocumentSourceError,
    FolderSource,
    Page,
    generate_page,
    open_documents,
    sniff,
)
from kiosk.submission.signature import is_signed, signature_png
from kiosk.submission.state import Draft, DraftStore


def collect(source: FolderSource | CameraSource) -> tuple[queue.Queue[Page], queue.Queue[str]]:
    pages: queue.Queue[Page] = queue.Queue()
    errors: queue.Queue[str] = queue.Queue()
    source.start(pages.put, errors.put)
    return pages, errors


def test_folder_source_takes_each_finished_scan_once(tmp_path: Path) -> None:
    (tmp_path / "old.jpg").write_bytes(generate_page("旧文件", 1))  # there before: not this citizen's
    source = FolderSource(tmp_path, poll_s=0.05)
    pages, errors = collect(source)
    try:
        jpeg = generate_page("身份证", 1, "jpg")
        growing = tmp_path / "scan1.jpg"
        growing.write_bytes(jpeg[:100])  # the scanner is still writing
        with pytest.raises(queue.Empty):
            pages.get(timeout=0.03)
        growing.write_bytes(jpeg)
        page = pages.get(timeout=5)
        assert page == Page(jpeg, "image/jpeg")
        (tmp_path / "notes.txt").write_text("not a scan")
        (tmp_path / "fake.pdf").write_bytes(b"MZ\x90\x00 renamed program")
        assert "无法识别" in errors.get(timeout=5)
        pdf = generate_page("户口簿", 2, "pdf")
        (tmp_path / "scan2.pdf").write_bytes(pdf)
        assert pages.get(timeout=5) == Page(pdf, "application/pdf")
    finally:
        source.stop()
    assert (tmp_path / "old.jpg").exists() and not (tmp_path / "scan1.jpg").exists()
    assert len(list((tmp_path / "done").iterdir())) == 3  # taken pages are moved aside, never sent twice
    assert pages.empty()


def test_demo_source_generates_jpeg_and_pdf_pages(tmp_path: Path) -> None:
    source = DemoSource(tmp_path / "scans", poll_s=0.05)
    pages, _errors = collect(source)
    try:
        for _ in range(3):
            source.request("不动产权证书")
        kinds = [pages.get(timeout=5).mime for _ in range(3)]
    finally:
        source.stop()
    assert sorted(kinds) == ["application/pdf", "image/jpeg", "image/jpeg"]
    image = Image.open(io.BytesIO(generate_page("完税凭证", 3)))
    assert image.format == "JPEG" and image.size == (620, 877)


def test_camera_source_takes_a_photo_per_tap() -> None:
    photo = generate_page("摄像头", 1)
    command = [sys.executable, "-c", f"import sys; sys.stdout.buffer.write(bytes.fromhex('{photo.hex()}'))"]
    source = CameraSource(command)
    pages, errors = collect(source)
    source.request("x")
    assert pages.get(timeout=10) == Page(photo, "image/jpeg")
    broken = CameraSource([sys.executable, "-c", "import sys; sys.exit(3)"])
    _pages, broken_errors = collect(broken)
    broken.request("x")
    assert "摄像头" in broken_errors.get(timeout=10)
    assert errors.empty()


def test_documents_urls() -> None:
    assert isinstance(open_documents("folder:///var/spool/scans"), FolderSource)
    assert isinstance(open_documents("camera:///dev/video2"), CameraSource)
    assert isinstance(open_documents(None, demo=True), DemoSource)
    assert open_documents(None) is None
    with pytest.raises(DocumentSourceError, match="folder:///"):
        open_documents("/var/spool/scans")
    assert sniff(b"%PDF-1.7") == "application/pdf" and sniff(b"GIF89a") is None


def test_signature_png_keeps_the_strokes_and_refuses_a_dot() -> None:
    stroke = [(20.0 + i * 10, 50.0 + (i % 3) * 20) for i in range(30)]
    assert is_signed([stroke]) and not is_signed([[(5.0, 5.0), (7.0, 7.0)]]) and not is_signed([])
    image = Image.open(io.BytesIO(signature_png([stroke], (400, 200), width=800)))
    assert image.format == "PNG" and image.size == (800, 400)
    dark = image.histogram()[:128]
    dark_pixels = sum(dark)
    assert 2_000 < dark_pixels < 100_000
    assert image.getpixel((40, 400 - 100)) == 0  # the first point, y flipped from Kivy's bottom-left origin


def test_draft_state_survives_and_refuses_garbage(tmp_path: Path) -> None:
    store = DraftStore(tmp_path / "state" / "submission-draft.json")
    assert store.load() is None
    store.save(Draft("c1", "key", "correct", "户口迁移"))
    assert DraftStore(store.path).load() == Draft("c1", "key", "correct", "户口迁移")
    assert store.path.stat().st_mode & 0o077 == 0  # the access key is for the kiosk's user only
    assert set(json.loads(store.path.read_text())) == {"case_id", "access", "mode", "item_name"}
    store.path.write_text("{not json")
    assert store.load() is None
    store.clear()
    store.clear()
    assert not store.path.exists()
