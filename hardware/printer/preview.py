"""A plain-text preview of ESC/POS bytes: what a ticket would look like, for terminals, demos and docs.

Understands the commands hallq's layouts use (ESC @, FS &, ESC ! / GS ! sizes, ESC E, ESC a,
GS ( k QR codes, GS v 0 raster images, ESC d, GS V cut) and skips the rest; text is GB18030.
"""

from __future__ import annotations

import unicodedata


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


class _Preview:
    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.lines: list[str] = []
        self.text = bytearray()
        self.align = 0
        self.scale = 1
        self.qr_data = b""

    def flush_line(self) -> None:
        line = self.text.decode("gb18030", errors="replace")
        self.text.clear()
        if self.scale > 1:
            line = " ".join(line)  # wide characters drawn wider, so big numbers stand out
        pad = max(0, self.columns - _width(line))
        if self.align == 1:
            line = " " * (pad // 2) + line
        elif self.align == 2:
            line = " " * pad + line
        self.lines.append(line.rstrip())

    def block(self, text: str) -> None:
        if self.text:
            self.flush_line()
        pad = max(0, self.columns - _width(text)) // 2 if self.align == 1 else 0
        self.lines.append(" " * pad + text)


def preview(data: bytes, columns: int = 32) -> str:
    page = _Preview(columns)
    i = 0
    n = len(data)
    while i < n:
        byte = data[i]
        if byte == 0x0A:
            page.flush_line()
            i += 1
        elif byte == 0x1B and i + 1 < n:  # ESC
            command = data[i + 1]
            if command == 0x40:  # ESC @
                page.align, page.scale = 0, 1
                i += 2
            elif command == 0x61 and i + 2 < n:  # ESC a n
                page.align = data[i + 2] % 0x30 if data[i + 2] >= 0x30 else data[i + 2]
                i += 3
            elif command == 0x21 and i + 2 < n:  # ESC ! n
                page.scale = 2 if data[i + 2] & 0x30 else 1
                i += 3
            elif command == 0x64 and i + 2 < n:  # ESC d n: feed n lines
                if page.text:
                    page.flush_line()
                page.lines.extend([""] * data[i + 2])
                i += 3
            else:
                i += 3  # ESC E n, ESC - n, ESC M n …: one parameter byte
        elif byte == 0x1D and i + 1 < n:  # GS
            command = data[i + 1]
            if command == 0x21 and i + 2 < n:  # GS ! n
                page.scale = max(1, (data[i + 2] >> 4) + 1)
                i += 3
            elif command == 0x28 and i + 4 < n and data[i + 2] == 0x6B:  # GS ( k pL pH cn fn …
                length = data[i + 3] | data[i + 4] << 8
                body = data[i + 5 : i + 5 + length]
                if body[:2] == b"1P":
                    page.qr_data = body[3:]
                elif body[:2] == b"1Q":
                    page.block(f"[QR {page.qr_data.decode('utf-8', errors='replace')}]")
                i += 5 + length
            elif command == 0x76 and i + 7 < n:  # GS v 0 m xL xH yL yH data
                width_bytes = data[i + 4] | data[i + 5] << 8
                height = data[i + 6] | data[i + 7] << 8
                page.block(f"[image {width_bytes * 8}x{height}]")
                i += 8 + width_bytes * height
            elif command == 0x56 and i + 2 < n:  # GS V m [n]
                if page.text:
                    page.flush_line()
                page.lines.append("-" * 6 + " cut " + "-" * (columns - 11))
                i += 4 if data[i + 2] in (0x41, 0x42) else 3
            else:
                i += 3
        elif byte == 0x1C and i + 1 < n:  # FS & / FS . (Chinese mode on/off)
            i += 2
        elif byte == 0x10 and i + 2 < n and data[i + 1] == 0x04:  # DLE EOT n (a status query)
            i += 3
        elif byte < 0x20:
            i += 1
        else:
            page.text.append(byte)
            i += 1
    if page.text:
        page.flush_line()
    return "\n".join(page.lines)
