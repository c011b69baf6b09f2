"""The engine's frozen calendar decides opening hours exactly as the hall config does.

`server/hall_rules.py` copies the config into plain values; these tests compare the copy's answers
(`HallRules.is_open`, `hours_text`) with `HallConfig.is_open` / `hours_on` over every day of 2026 at
times around every boundary of the example hall, and for variants the example does not exercise.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hallq.config import HallConfig, TimeRange, WeekHours, example_config_path, load_hall_config
from server.engine import HallRules
from server.engine.hours import END_OF_DAY, HallCalendar
from server.engine.hours import TimeRange as PlainRange
from server.hall_rules import rules_from_config

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS_2026 = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(365)]
TIMES = [
    dt.time(0, 0),
    dt.time(8, 29, 59),
    dt.time(8, 30),
    dt.time(9, 0),
    dt.time(11, 59, 59, 999999),
    dt.time(12, 0),
    dt.time(12, 45),
    dt.time(13, 30),
    dt.time(16, 59, 59),
    dt.time(17, 0),
    dt.time(17, 14),
    dt.time(17, 15),
    dt.time(17, 29, 59),
    dt.time(17, 30),
    dt.time(19, 0),
    dt.time(20, 59),
    END_OF_DAY,
]
ENGINE = Path(__file__).resolve().parents[2] / "server" / "engine"


@pytest.fixture(scope="module")
def example() -> HallConfig:
    return load_hall_config(example_config_path())


def config_hours_text(config: HallConfig, moment: dt.datetime, code: str) -> str:
    day = moment.astimezone(config.hall.tz()).date()
    return ", ".join(str(r) for r in config.hours_on(day, config.service(code))) or "休息 closed"


def disagreements(config: HallConfig, rules: HallRules, days: list[dt.date]) -> list[str]:
    """Every (moment, service) where the rules and the config answer differently; the empty
    code stands for an unknown service, which gets the hall's own hours. Hours text depends on the
    day only: it is compared at the day's first and last moment, given in UTC."""
    codes = [s.code for s in config.services] + [""]
    wrong = []
    for day in days:
        for time in TIMES:
            local = dt.datetime.combine(day, time, tzinfo=SHANGHAI)
            for moment in (local, local.astimezone(dt.UTC)):
                wrong += [
                    f"is_open {moment.isoformat()} {code or 'hall'}"
                    for code in codes
                    if rules.is_open(moment, code) != config.is_open(moment, config.service(code))
                ]
        for time in (TIMES[0], TIMES[-1]):
            moment = dt.datetime.combine(day, time, tzinfo=SHANGHAI).astimezone(dt.UTC)
            wrong += [
                f"hours_text {moment.isoformat()} {code or 'hall'}"
                for code in codes
                if rules.hours_text(moment, code) != config_hours_text(config, moment, code)
            ]
    return wrong


def test_every_moment_of_2026_agrees_with_the_example_config(example: HallConfig) -> None:
    assert disagreements(example, rules_from_config(example), DAYS_2026) == []


def test_the_example_calendar_reads_as_the_hall_publishes_it(example: HallConfig) -> None:
    rules = rules_from_config(example)

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)

    make_up_saturday, national_day = dt.date(2026, 10, 10), dt.date(2026, 10, 1)
    saturday, sunday, monday = dt.date(2026, 11, 21), dt.date(2026, 11, 22), dt.date(2026, 11, 23)
    assert make_up_saturday.weekday() == 5 and make_up_saturday in rules.calendar.workdays
    assert rules.is_open(at(make_up_saturday, 14), "A")  # 调休: a full working day
    assert rules.hours_text(at(make_up_saturday, 14), "A") == "08:30-12:00, 13:30-17:30"
    assert not rules.is_open(at(make_up_saturday, 12, 30), "A")  # no lunch-time hours on a 调休 day
    assert not rules.is_open(at(national_day, 10), "A")
    assert rules.hours_text(at(national_day, 10), "A") == "休息 closed"
    assert rules.is_open(at(saturday, 10), "A") and not rules.is_open(at(saturday, 13), "A")
    assert rules.hours_text(at(saturday, 8), "A") == "09:00-12:00"
    assert not rules.is_open(at(sunday, 10), "A")
    assert rules.is_open(at(monday, 12, 30), "A")  # 错时延时: open over lunch on weekdays
    assert not rules.is_open(at(monday, 17, 10), "A") and rules.is_open(at(monday, 17, 10), "Q")  # last tickets


def variant(config: HallConfig, **hall: object) -> HallConfig:
    """The example with a service of its own hours (evenings, Sunday) and hall fields changed."""
    own_week = WeekHours(
        mon=[TimeRange.parse("08:00-12:00"), TimeRange.parse("17:30-21:00")],
        tue=[TimeRange.parse("08:00-12:00")],
        wed=[TimeRange.parse("00:00-24:00")],
        thu=[],
        fri=[TimeRange.parse("13:00-24:00")],
        sat=[TimeRange.parse("09:00-17:00")],
        sun=[TimeRange.parse("10:00-12:00")],
    )
    services = [
        s.model_copy(update={"hours": own_week, "last_ticket": None}) if s.code == "F" else s for s in config.services
    ]
    return config.model_copy(update={"services": services, "hall": config.hall.model_copy(update=hall)})


@pytest.mark.parametrize(
    "hall",
    [
        {},
        {"workday_hours": []},  # a 调休 day then takes Monday's hours
        {"around_the_clock": True},
        {"holidays": [], "workdays": [dt.date(2026, 11, 22), dt.date(2026, 1, 1)]},  # also a weekday 调休
        {"timezone": "Asia/Urumqi"},
    ],
    ids=["own-hours", "no-workday-hours", "around-the-clock", "sunday-workday", "other-zone"],
)
def test_variants_agree_with_the_config(example: HallConfig, hall: dict[str, object]) -> None:
    config = variant(example, **hall)
    special = sorted({*example.hall.holidays, *example.hall.workdays, *config.hall.workdays})
    assert disagreements(config, rules_from_config(config), DAYS_2026[::5] + special) == []


def test_rules_are_frozen_plain_values(example: HallConfig) -> None:
    rules = rules_from_config(example)
    assert rules_from_config(example) == rules  # plain values compare by value
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.calendar.holidays = frozenset()  # type: ignore[misc]
    for value in dataclasses.astuple(rules.calendar):
        assert type(value).__module__ in ("builtins", "server.engine.hours"), value


def test_a_calendar_built_by_hand_is_open_all_day_unless_told() -> None:
    calendar = HallCalendar()
    assert calendar.is_open(dt.datetime(2026, 10, 1, 3, 0, tzinfo=SHANGHAI))
    assert not calendar.is_open(dt.datetime(2026, 10, 1, 17, 0, tzinfo=SHANGHAI), last_ticket=dt.time(17, 0))
    assert str(calendar.hours_on(dt.date(2026, 10, 1))[0]) == "00:00-24:00"
    with pytest.raises(ValueError, match="ends before it starts"):
        PlainRange(dt.time(12, 0), dt.time(8, 30))


def test_the_engine_imports_nothing_that_parses_nor_the_config_bridge() -> None:
    """DESIGN.md §2: no hallq, pydantic or yaml in the engine, and not `server.hall_rules` either."""
    forbidden = {"hallq", "pydantic", "yaml", "server"}  # the engine imports its own modules relatively
    found = []
    for path in sorted(ENGINE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else [f".{node.module or ''}"]
            found += [f"{path.name} imports {n}" for n in names if n.split(".")[0] in forbidden]
            found += [f"{path.name} imports {n}" for n in names if n.lstrip(".") == "hall_rules"]
    assert found == []
