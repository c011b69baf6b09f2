"""Checks on a raw JSON payload that cost no parsing (issue 12), shared by the HTTP request guard
(server/api/limits.py) and the MQTT window commands (server/commands_mqtt.py): too many keys and
elements, too deep, not UTF-8, a NUL character. Each refusal is a sentence, Chinese and English.

The scans run at C speed (regular expressions and bytes methods), so a payload of a million keys or
a thousand brackets is refused before a JSON parser or pydantic builds anything from it.
"""

from __future__ import annotations

import re

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")

NUL_SENTENCE = (
    "请求中含有空字符（\\u0000），无法处理。 The request contains a NUL character (\\u0000), which is not allowed."
)

NOT_UTF8_SENTENCE = "请求正文不是 UTF-8 编码的 JSON。 The request body is not UTF-8 encoded JSON."


def payload_problem(raw: bytes, max_items: int, max_depth: int) -> str | None:
    """The first reason to refuse this JSON payload unparsed, or None."""
    if not is_utf8(raw):
        return NOT_UTF8_SENTENCE
    if has_nul(raw):
        return NUL_SENTENCE
    return json_shape_problem(raw, max_items, max_depth)


def json_shape_problem(body: bytes, max_items: int, max_depth: int) -> str | None:
    """Why this JSON body is refused before parsing, or None. Strings are blanked first so brackets,
    colons and commas inside them do not count; what is malformed is left to the JSON parser."""
    skeleton = _JSON_STRING.sub(b'""', body)
    items = skeleton.count(b":") + skeleton.count(b",")
    if items > max_items:
        return (
            f"请求正文的 JSON 项过多（超过 {max_items} 项）。 "
            f"The JSON body has more than {max_items} keys and elements."
        )
    brackets = skeleton.translate(None, delete=_NOT_BRACKET)
    for _ in range(max_depth):  # each pass removes the innermost level
        brackets, removed = _EMPTY_PAIR.subn(b"", brackets)
        if not brackets or not removed:
            return None
    if _EMPTY_PAIR.search(brackets):
        return (
            f"请求正文的 JSON 嵌套过深（超过 {max_depth} 层）。 The JSON body is nested deeper than {max_depth} levels."
        )
    return None


def is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def has_nul(body: bytes) -> bool:
    return b"\x00" in body or _NUL_ESCAPE.search(body) is not None
