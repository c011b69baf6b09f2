"""Where scanned pages come from: a document scanner's output folder, a camera, or (demo) generated pages.

Every source hands `Page`s to one callback, from its own thread (the app posts them to the UI thread).
A page is read into memory and the file moved aside (`done/`), so a restart never hands it in twice;
its name is never sent to the dispatcher (it stores files by checksum).

URLs (`HALLQ_DOCUMENTS` or `documents:` in the device config's `extra`):
- `folder:///var/spool/scans` — the scanner's "scan to folder" target; the citizen presses the
  scanner's own button and each new JPEG, PNG or PDF becomes a page;
- `camera:///dev/video0` — a document camera, one photo per tap (`fswebcam`);
- `sim:` — the demo: a tap writes a generated page (JPEG or PDF, drawn with Pillow) into a watched folder.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 10 * 1024 * 1024  # the dispatcher refuses more (docs/cases.md)
SUFFIXES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".pdf": "application/pdf"}
PageHandler = Callable[["Page"], None]
ErrorHandler = Callable[[str], None]


class DocumentSourceError(ValueError):
    """A documents URL that cannot be used; the message says why."""


@dataclass(frozen=True)
class Page:
    data: bytes
    mime: str


def sniff(data: bytes) -> str | None:
    """The type by content (as the dispatcher checks it), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


class DocumentSource(Protocol):
    hint: str  # what the citizen does to scan a page
    can_request: bool  # a tap on 扫描 produces a page

    def start(self, on_page: PageHandler, on_error: ErrorHandler) -> None: ...

    def request(self, label: str) -> None: ...

    def stop(self) -> None: ...


class FolderSource:
    """Watches a folder for new files; a file is taken once its size stays the same for one poll
    (the scanner has finished writing it). Files present before `start` are left alone."""

    hint = "请将材料正面朝下放在扫描仪上，按扫描仪上的“扫描”键；每页扫描后会显示在下方"
    can_request = False

    def __init__(self, folder: Path, poll_s: float = 0.4) -> None:
        self.folder = folder
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: set[str] = set()

    def start(self, on_page: PageHandler, on_error: ErrorHandler) -> None:
        self.stop()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._seen = {p.name for p in self.folder.iterdir()}
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, args=(on_page, on_error, self._stop), name="kiosk-documents", daemon=True
        )
        self._thread.start()

    def request(self, label: str) -> None:
        """The scanner has its own button: nothing to do."""

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self._thread = None

    def _watch(self, on_page: PageHandler, on_error: ErrorHandler, stop: threading.Event) -> None:
        sizes: dict[str, int] = {}
        while not stop.wait(self.poll_s):
            try:
                self._poll(on_page, on_error, sizes)
            except OSError as exc:  # folder unmounted, permissions: say so, keep watching
                log.warning("document folder %s: %s", self.folder, exc)
                on_error("扫描仪文件夹暂时无法读取，请联系工作人员")

    def _poll(self, on_page: PageHandler, on_error: ErrorHandler, sizes: dict[str, int]) -> None:
        for path in sorted(self.folder.iterdir(), key=lambda p: p.stat().st_mtime):
            if path.name in self._seen or not path.is_file() or path.name.startswith("."):
                continue
            size = path.stat().st_size
            if sizes.get(path.name) != size or size == 0:  # still being written
                sizes[path.name] = size
                continue
            self._seen.add(path.name)
            sizes.pop(path.name, None)
            self._take(path, on_page, on_error)

    def _take(self, path: Path, on_page: PageHandler, on_error: ErrorHandler) -> None:
        if path.suffix.lower() not in SUFFIXES:
            log.info("document folder: ignoring %s (not JPEG, PNG or PDF)", path.suffix)
            return
        if path.stat().st_size > MAX_PAGE_BYTES:
            on_error("扫描的文件过大（超过10 MB），请降低扫描分辨率后重新扫描")
            self._set_aside(path)
            return
        data = path.read_bytes()
        mime = sniff(data)
        self._set_aside(path)
        if mime is None:
            on_error("扫描仪送来的文件无法识别，请重新扫描")
            return
        on_page(Page(data, mime))

    def _set_aside(self, path: Path) -> None:
        done = self.folder / "done"
        done.mkdir(exist_ok=True)
        self._seen.add("done")
        try:
            shutil.move(str(path), done / f"{time.time_ns()}{path.suffix.lower()}")
        except OSError as exc:
            log.warning("could not move a scanned page aside: %s", exc)


class CameraSource:
    """A document camera: one photo per tap, taken by a capture command that writes a JPEG to stdout."""

    hint = "请将材料平放在摄像头下方的框内，点击“拍照”"
    can_request = True

    def __init__(self, command: list[str], timeout_s: float = 15.0) -> None:
        self.command = command
        self.timeout_s = timeout_s
        self._on_page: PageHandler | None = None
        self._on_error: ErrorHandler | None = None

    def start(self, on_page: PageHandler, on_error: ErrorHandler) -> None:
        self._on_page, self._on_error = on_page, on_error

    def request(self, label: str) -> None:
        threading.Thread(target=self._capture, name="kiosk-camera", daemon=True).start()

    def stop(self) -> None:
        self._on_page = self._on_error = None

    def _capture(self) -> None:
        on_page, on_error = self._on_page, self._on_error
        try:
            out = subprocess.run(self.command, capture_output=True, timeout=self.timeout_s, check=True).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("camera capture failed: %s", exc)
            if on_error:
                on_error("摄像头暂时无法拍照，请稍后重试或联系工作人员")
            return
        mime = sniff(out)
        if mime is None or len(out) > MAX_PAGE_BYTES:
            if on_error:
                on_error("拍照失败，请重新拍照")
            return
        if on_page:
            on_page(Page(out, mime))


class DemoSource(FolderSource):
    """The demo's scanner: a tap writes a generated page into the watched folder, so the demo runs the
    same folder watcher a real scanner feeds. Every third page is a PDF, the others JPEG."""

    hint = "演示：点击“扫描一页”，模拟扫描仪送来一页材料"
    can_request = True

    def __init__(self, folder: Path | None = None, poll_s: float = 0.3) -> None:
        super().__init__(folder or Path(tempfile.gettempdir()) / f"hallq-scans-{os.getpid()}", poll_s)
        self.generated = 0

    def request(self, label: str) -> None:
        self.generated += 1
        kind = "pdf" if self.generated % 3 == 0 else "jpg"
        data = generate_page(label, self.generated, kind)
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".page-{self.generated}.tmp"
        partial.write_bytes(data)
        partial.rename(self.folder / f"scan-{time.time_ns()}.{kind}")  # appears whole, like a finished scan


def generate_page(title: str, number: int, kind: str = "jpg") -> bytes:
    """A made-up scanned page: a greyish A4 sheet with the material's name and some ruled lines."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (620, 877), (246, 245, 240))
    draw = ImageDraw.Draw(page)
    font, small = _fonts()
    draw.text((50, 60), title, fill=(20, 20, 20), font=font)
    draw.text((50, 120), f"演示扫描件 第 {number} 页", fill=(90, 90, 90), font=small)
    for y in range(190, 800, 36):
        draw.line((50, y, 570, y), fill=(190, 190, 190), width=2)
    draw.rectangle((420, 700, 560, 800), outline=(200, 40, 40), width=4)
    out = io.BytesIO()
    page.save(out, "PDF" if kind == "pdf" else "JPEG", quality=80)
    return out.getvalue()


@functools.lru_cache(maxsize=1)
def _fonts() -> tuple[Any, Any]:
    from PIL import ImageFont

    try:
        from kiosk.runtime import find_cjk_font

        path = find_cjk_font()
        return ImageFont.truetype(path, 34), ImageFont.truetype(path, 20)
    except Exception:  # no CJK font: the page is still a valid image
        return ImageFont.load_default(), ImageFont.load_default()


def open_documents(url: str | None, demo: bool = False) -> DocumentSource | None:
    """The source for a documents URL (None: no scanner, materials can only be deferred)."""
    if not url:
        return DemoSource() if demo else None
    parsed = urlparse(url)
    if parsed.scheme == "sim":
        return DemoSource(Path(parsed.path) if parsed.path else None)
    if parsed.scheme == "folder" and parsed.path:
        return FolderSource(Path(parsed.path))
    if parsed.scheme == "camera":
        device = parsed.path or "/dev/video0"
        return CameraSource(["fswebcam", "-q", "--no-banner", "-d", device, "-r", "1600x1200", "--jpeg", "90", "-"])
    raise DocumentSourceError(f"documents URL {url!r}: use folder:///path/to/scans, camera:///dev/video0 or sim:")
