"""Uploaded materials: the type is checked by content, never by the name; files are stored under their
sha256 (names are never used as paths), written to a temporary file, synced, then renamed into place,
so a crash leaves either nothing or a whole file."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a 300 dpi A4 scan as JPEG is 1-3 MB
MAX_IMAGE_PIXELS = 60_000_000  # refuse decompression bombs
ALLOWED = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


class UploadRejected(ValueError):
    """A file the hall will not keep; the message tells the citizen or clerk what to do instead."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    mime: str


def sniff(data: bytes) -> str:
    """The MIME type from the file's own bytes; UploadRejected for anything but JPEG, PNG or PDF."""
    if not data:
        raise UploadRejected("文件为空，请重新扫描 — the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRejected(
            f"文件过大（{len(data) // 1024 // 1024} MB），单个材料不超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB"
            " — file too large"
        )
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-1024:]:
            raise UploadRejected("PDF 文件不完整，请重新扫描 — the PDF is truncated")
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return _checked_image(data, "JPEG", "image/jpeg")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _checked_image(data, "PNG", "image/png")
    raise UploadRejected("只接受 JPG、PNG 图片或 PDF 文件 — only JPEG, PNG or PDF files are accepted")


def _checked_image(data: bytes, fmt: str, mime: str) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != fmt:
                raise UploadRejected(f"文件内容不是 {fmt} 图片 — not a {fmt} image")
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UploadRejected("图片像素过多，请降低扫描分辨率 — image too large")
            image.verify()
    except UploadRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise UploadRejected(f"图片已损坏，请重新扫描 — the image is damaged ({type(exc).__name__})") from None
    return mime


class FileStore:
    """Content-addressed files: `root/ab/abcdef….pdf`. Writing the same content twice stores it once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def path_of(self, sha256: str, mime: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise UploadRejected("bad file reference")
        return self.root / sha256[:2] / f"{sha256}.{ALLOWED[mime]}"

    def put(self, data: bytes) -> StoredFile:
        mime = sniff(data)
        digest = hashlib.sha256(data).hexdigest()
        final = self.path_of(digest, mime)
        if not final.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.root / "tmp" / secrets.token_hex(8)
            with open(temporary, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, final)
        return StoredFile(digest, len(data), mime)

    def read(self, sha256: str, mime: str) -> bytes:
        return self.path_of(sha256, mime).read_bytes()

    def remove_unreferenced(self, referenced: set[str]) -> int:
        """Delete stored files no case row points at (left by an abandoned draft or a crash)."""
        removed = 0
        for path in self.root.glob("??/*.*"):
            if path.stem not in referenced:
                path.unlink(missing_ok=True)
                removed += 1
        for stale in (self.root / "tmp").iterdir():
            stale.unlink(missing_ok=True)
        return removed
