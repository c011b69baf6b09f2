"""What the loudspeaker says: pure functions from a call's fields to the Mandarin text a TTS reads.

A TTS reads "A012" as "A 零十二" and "12号窗口" as "一二号窗口" or worse; halls say the ticket letter
and then every digit on its own ("A 零 一 二", so 1000 is "一 零 零 零"), and window numbers as
numbers ("十二号窗口"). So the spoken text is built from the call's fields, never read from `announce`
as it is: `announce` only supplies the wording around the fields (see `derive_template`).
"""

from __future__ import annotations

import re
import string
import unicodedata

DEFAULT_TEMPLATE = "请{number}号到{window}办理"
DIGITS = "零一二三四五六七八九"
FIELDS = ("number", "window", "service")
# Longer than this, a run of digits is a code (phone, serial), read digit by digit.
_MAX_CARDINAL_DIGITS = 8
_DIGIT_RUN = re.compile(r"[0-9]+")
_CAPITALS_RUN = re.compile(r"[A-Z]{2,}")


class TemplateError(ValueError):
    """A template that uses a field other than {number}, {window}, {service}, or is not a template."""


def spell_ticket(number: str) -> str:
    """A012 → "A 零 一 二": each letter and digit on its own, so the TTS cannot read "012" as 十二."""
    spoken: list[str] = []
    for char in unicodedata.normalize("NFKC", number).strip():
        if "0" <= char <= "9":
            spoken.append(DIGITS[int(char)])
        elif char.isascii() and char.isalpha():
            spoken.append(char.upper())
        elif char.isspace() or char in "-_.":
            continue  # separators some halls print ("A-012") are not said
        else:
            spoken.append(char)
    return " ".join(spoken)


def cardinal(value: int) -> str:
    """12 → 十二, 105 → 一百零五, 10010 → 一万零一十: a number as a quantity, below 10⁸."""
    if value < 0:
        return "负" + cardinal(-value)
    if value == 0:
        return DIGITS[0]
    if value >= 10**8:
        return "".join(DIGITS[int(d)] for d in str(value))
    high, low = divmod(value, 10_000)
    if not high:
        return _below_ten_thousand(low, leading=True)
    spoken = _below_ten_thousand(high, leading=True) + "万"
    if low:
        spoken += ("零" if low < 1000 else "") + _below_ten_thousand(low, leading=False)
    return spoken


def _below_ten_thousand(value: int, leading: bool) -> str:
    spoken = ""
    zero_pending = False
    for power, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = value // power % 10
        if digit == 0:
            zero_pending = bool(spoken)
            continue
        if zero_pending:
            spoken += DIGITS[0]
            zero_pending = False
        # 十二, not 一十二, at the start of a number; 一百一十 inside one.
        if not (digit == 1 and power == 10 and leading and not spoken):
            spoken += DIGITS[digit]
        spoken += unit
    return spoken


def _spoken_digits(match: re.Match[str]) -> str:
    run = match.group(0)
    if (len(run) > 1 and run.startswith("0")) or len(run) > _MAX_CARDINAL_DIGITS:
        return "".join(DIGITS[int(d)] for d in run)
    return cardinal(int(run))


def speakable(text: str) -> str:
    """Free text (a window name, the template's own words) as a Mandarin voice should read it:
    digit runs as numbers (3号窗口 → 三号窗口), capital runs letter by letter (VIP → V I P)."""
    text = unicodedata.normalize("NFKC", text)
    text = _DIGIT_RUN.sub(_spoken_digits, text)
    return _CAPITALS_RUN.sub(lambda m: " ".join(m.group(0)), text)


def spoken_window(name: str) -> str:
    """3号窗口 → 三号窗口, 12号窗口 → 十二号窗口."""
    return speakable(name)


def check_template(template: str) -> str:
    """Return the template if it is usable; raise TemplateError naming the problem otherwise."""
    try:
        for _, field, spec, conversion in string.Formatter().parse(template):
            if field is not None and field not in FIELDS:
                raise TemplateError(
                    f"template {template!r} uses {{{field}}}; only {{number}}, {{window}}, {{service}} are known"
                )
            if spec or conversion:
                raise TemplateError(f"template {template!r}: write fields without format specs")
    except ValueError as exc:
        if isinstance(exc, TemplateError):
            raise
        raise TemplateError(f"template {template!r} is not a template: {exc}") from None
    if "{number}" not in template:
        raise TemplateError(f"template {template!r} never says the ticket number ({{number}})")
    return template


def render(template: str, number: str, window: str, service: str = "") -> str:
    """The spoken announcement: the template's words made speakable, the fields in spoken form."""
    spoken_fields = {"number": spell_ticket(number), "window": spoken_window(window), "service": speakable(service)}
    parts: list[str] = []
    for literal, field, _, _ in string.Formatter().parse(check_template(template)):
        parts.append(speakable(literal))
        if field is not None:
            parts.append(spoken_fields[field])
    return "".join(parts)


def derive_template(announce: str, number: str, window: str, service: str = "") -> str | None:
    """The template the dispatcher rendered `announce` with: "请A012号到3号窗口办理" with A012 and
    3号窗口 → "请{number}号到{window}办理". None when `announce` does not contain the ticket number,
    so the caller falls back to a configured template rather than guessing."""
    if not announce or not number or number not in announce:
        return None
    values = {"number": number, "window": window, "service": service}
    # Longest first, so a window called "A1窗口" is not cut by a ticket "A1".
    names = sorted((k for k, v in values.items() if v), key=lambda k: -len(values[k]))
    pattern = re.compile("|".join(re.escape(values[k]) for k in names))
    by_value = {values[k]: k for k in reversed(names)}
    pieces: list[str] = []
    position = 0
    for match in pattern.finditer(announce):
        pieces.append(_escape_braces(announce[position : match.start()]))
        pieces.append("{" + by_value[match.group(0)] + "}")
        position = match.end()
    pieces.append(_escape_braces(announce[position:]))
    return "".join(pieces)


def _escape_braces(literal: str) -> str:
    return literal.replace("{", "{{").replace("}", "}}")


# How a hall reads a Latin letter aloud, in characters: for engines that read characters only (the
# neural engine's normaliser drops Latin letters, so "A012" would lose its letter).
LETTER_SOUNDS = {
    "A": "诶", "B": "比", "C": "西", "D": "迪", "E": "伊", "F": "艾弗", "G": "吉", "H": "艾尺", "I": "艾",
    "J": "杰", "K": "开", "L": "艾勒", "M": "艾姆", "N": "艾恩", "O": "欧", "P": "批", "Q": "丘", "R": "阿尔",
    "S": "艾斯", "T": "提", "U": "优", "V": "维", "W": "达布溜", "X": "艾克斯", "Y": "歪", "Z": "泽德",
}  # fmt: skip
_LATIN_LETTER = re.compile(r"[A-Za-z]")


def hanzi_only(spoken: str) -> str:
    """A spoken sentence with every Latin letter replaced by how it is said (请A 零 一 二号 → 请诶零一二号)
    and without the spaces between single letters and digits (an engine without letters needs none)."""
    return _LATIN_LETTER.sub(lambda m: LETTER_SOUNDS[m.group(0).upper()], spoken).replace(" ", "")
