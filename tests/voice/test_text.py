"""What is said: tickets letter by letter and digit by digit, window numbers as numbers, the hall's wording."""

from __future__ import annotations

import pytest

from caller.voice import text


@pytest.mark.parametrize(
    ("ticket", "spoken"),
    [
        ("A012", "A 零 一 二"),
        ("A1000", "A 一 零 零 零"),
        ("B001", "B 零 零 一"),
        ("q7", "Q 七"),
        ("A-012", "A 零 一 二"),
        ("Ａ０１２", "A 零 一 二"),  # full-width, as some systems type it
    ],
)
def test_ticket_is_spelled_digit_by_digit(ticket: str, spoken: str) -> None:
    assert text.spell_ticket(ticket) == spoken


@pytest.mark.parametrize(
    ("value", "spoken"),
    [
        (0, "零"), (3, "三"), (10, "十"), (12, "十二"), (20, "二十"), (99, "九十九"), (100, "一百"),
        (101, "一百零一"), (110, "一百一十"), (1000, "一千"), (1001, "一千零一"), (1010, "一千零一十"),
        (10010, "一万零一十"), (12345, "一万二千三百四十五"), (100000, "十万"),
    ],
)  # fmt: skip
def test_cardinal_numbers(value: int, spoken: str) -> None:
    assert text.cardinal(value) == spoken


@pytest.mark.parametrize(
    ("name", "spoken"),
    [
        ("3号窗口", "三号窗口"),
        ("12号窗口", "十二号窗口"),
        ("10号窗口", "十号窗口"),
        ("综合出件窗口", "综合出件窗口"),
        ("VIP 2号窗口", "V I P 二号窗口"),
        ("03号窗口", "零三号窗口"),  # a leading zero is a code, read digit by digit
    ],
)
def test_window_names_are_read_as_numbers(name: str, spoken: str) -> None:
    assert text.spoken_window(name) == spoken


def test_default_template_rendered() -> None:
    assert text.render(text.DEFAULT_TEMPLATE, "A012", "3号窗口") == "请A 零 一 二号到三号窗口办理"
    assert text.render(text.DEFAULT_TEMPLATE, "A1000", "12号窗口") == "请A 一 零 零 零号到十二号窗口办理"


def test_template_with_service_and_literal_digits() -> None:
    spoken = text.render("请{number}号到{window}办理{service}, 2楼", "C005", "6号窗口", "不动产登记")
    assert spoken == "请C 零 零 五号到六号窗口办理不动产登记, 二楼"


@pytest.mark.parametrize("bad", ["请{name}号", "请{number:>4}号", "请{number", "到{window}办理"])
def test_bad_templates_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(text.TemplateError):
        text.render(bad, "A012", "3号窗口")


def test_template_recovered_from_the_dispatchers_announce() -> None:
    assert text.derive_template("请A012号到3号窗口办理", "A012", "3号窗口") == "请{number}号到{window}办理"
    assert (
        text.derive_template("请A012号到3号窗口办理社保业务", "A012", "3号窗口", "社保")
        == "请{number}号到{window}办理{service}业务"
    )
    # braces in the wording stay literal
    assert text.derive_template("{注意}请A1号到1号窗口", "A1", "1号窗口") == "{{注意}}请{number}号到{window}"
    assert text.derive_template("请到窗口", "A012", "3号窗口") is None
    assert text.derive_template("", "A012", "3号窗口") is None


def test_longest_field_wins_when_one_contains_another() -> None:
    # window "A1窗口" contains the ticket "A1": the window must not be cut apart.
    assert text.derive_template("请A1号到A1窗口", "A1", "A1窗口") == "请{number}号到{window}"
