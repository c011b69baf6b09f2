"""Slots from the hall's hours and calendar (DESIGN.md §13): pure, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from hallq.config import ConfigError, parse_hall_config
from server.appointments.slots import places_per_slot, slots_on, window_equivalents
from tests.appointments.conftest import MONDAY, hall_config


def times(config: object, code: str, day: dt.date) -> list[str]:
    service = config.service(code)  # type: ignore[attr-defined]
    return [s.start.strftime("%H:%M") for s in slots_on(config, service, day)]  # type: ignore[arg-type]


def test_a_working_day_is_cut_into_slots_across_touching_ranges_and_stops_at_the_last_ticket() -> None:
    config = hall_config()
    found = times(config, "A", MONDAY)
    # 08:30-12:00, 12:00-13:30 (错时延时) and 13:30-17:30 touch: one range; A's last ticket is 17:00
    assert found[0] == "08:30" and "12:00" in found and "13:00" in found and found[-1] == "16:30"
    assert len(found) == (17 * 60 - 8 * 60 - 30) // 30
    saturday = times(config, "A", MONDAY + dt.timedelta(days=5))
    assert saturday == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert times(config, "A", MONDAY + dt.timedelta(days=6)) == []  # Sunday: closed


def test_holidays_and_make_up_days_from_the_config_and_the_national_calendar() -> None:
    config = hall_config()
    assert times(config, "A", dt.date(2026, 10, 1)) == []  # 国庆, listed in the hall config
    assert times(config, "A", dt.date(2026, 10, 10))[0] == "08:30"  # Saturday 调休, listed
    data = config.model_dump()
    data["hall"].update({"holidays": [], "workdays": []})
    unlisted = parse_hall_config(data)
    assert times(unlisted, "A", dt.date(2026, 10, 1)) == []  # chinese-calendar knows 国庆
    assert times(unlisted, "A", dt.date(2026, 10, 10))[0] == "08:30"  # and the 调休 Saturday
    assert "12:00" not in times(unlisted, "A", dt.date(2026, 10, 10))  # with the working-day hours


def capacities(config: object, code: str) -> list[int]:
    service = config.service(code)  # type: ignore[attr-defined]
    return [s.capacity for s in slots_on(config, service, MONDAY)]  # type: ignore[arg-type]


def test_capacity_follows_the_share_the_windows_and_the_service_time() -> None:
    config = hall_config(share=0.3)
    service = config.service("A")
    assert service is not None
    # windows 1, 2 and 3 serve A among three services each: one window's time in all
    assert window_equivalents(config, "A") == pytest.approx(1.0)
    per_slot = places_per_slot(config, service)
    assert per_slot == pytest.approx(0.3 * 30 / service.avg_service_min)
    found = capacities(config, "A")
    # the fractions add up over the day: every slot has the floor or the ceiling, the day the sum
    assert set(found) <= {int(per_slot), int(per_slot) + 1} and sum(found) == int(len(found) * per_slot)
    assert sum(capacities(hall_config(share=0.6), "A")) == int(len(found) * per_slot * 2)
    assert set(capacities(hall_config(share=0), "A")) == {0}
    slow = capacities(config, "C")  # 不动产登记: 25 minutes a citizen, less than one place a slot
    assert set(slow) == {0, 1} and sum(slow) == int(len(slow) * places_per_slot(config, config.service("C")))  # type: ignore[arg-type]
    hourly = hall_config(slot_min=60)
    assert times(hourly, "A", MONDAY)[:2] == ["08:30", "09:30"]
    assert times(hall_config(enabled=False), "A", MONDAY) == []


@pytest.mark.parametrize(
    ("settings", "path"),
    [({"share": 1.5}, "appointments.share"), ({"slot_min": 7}, "appointments.slot_min"),
     ({"slot_min": 35}, "appointments.slot_min"),
     ({"no_show_block": {"missed": 0}}, "appointments.no_show_block.missed")],
)  # fmt: skip
def test_the_appointments_section_is_validated(settings: dict[str, object], path: str) -> None:
    data = hall_config().model_dump()
    data["appointments"].update(settings)
    with pytest.raises(ConfigError) as caught:
        parse_hall_config(data)
    assert any(where == path for where, _ in caught.value.errors), caught.value.errors
