"""The hall config schema: the example is valid, every error is reported at once with its path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from hallq.cli import main
from hallq.config import ConfigError, TimeRange, example_config_path, load_hall_config, parse_hall_config

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def example() -> dict:
    return yaml.safe_load(example_config_path().read_text(encoding="utf-8"))


def test_example_hall_is_a_realistic_centre(example: dict) -> None:
    config = parse_hall_config(example)
    assert config.hall.id == "demo"
    departments = {s.department for s in config.services}
    assert {"人社", "医保", "不动产登记", "公安户籍", "车管", "婚姻登记", "市场监管", "税务"} <= departments
    kinds = {w.kind.value for w in config.windows}
    assert kinds == {"comprehensive", "output", "specialist"}
    assert len(config.windows) >= 10
    assert any(len(w.services) > 1 for w in config.windows if w.kind.value == "comprehensive")


def test_every_error_is_reported_with_its_path(example: dict) -> None:
    broken = yaml.safe_load(yaml.safe_dump(example, allow_unicode=True))
    broken["hall"]["timezone"] = "Mars/Olympus"
    broken["hall"]["hours"]["mon"] = ["17:00-08:00"]
    broken["services"][0]["code"] = "a1"
    broken["services"][1]["items"][0]["materials"][0]["copies"] = 0
    broken["windows"][2]["services"] = ["ZZ"]
    with pytest.raises(ConfigError) as caught:
        parse_hall_config(broken, "hall.yaml")
    paths = {path for path, _ in caught.value.errors}
    assert "hall.timezone" in paths
    assert "hall.hours.mon" in paths
    assert "services[0].code" in paths
    assert "services[1].items[0].materials[0].copies" in paths
    assert len(caught.value.errors) >= 4
    assert "Mars/Olympus" in str(caught.value)


def test_unknown_window_service_is_named(example: dict) -> None:
    example = yaml.safe_load(yaml.safe_dump(example, allow_unicode=True))
    example["windows"][0]["services"] = ["ZZ"]
    with pytest.raises(ConfigError, match="window 1 serves unknown service 'ZZ'"):
        parse_hall_config(example)


def test_hours_holidays_and_makeup_days() -> None:
    config = load_hall_config(example_config_path())
    monday_morning = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    assert config.is_open(monday_morning)
    assert not config.is_open(monday_morning.replace(hour=7))
    assert not config.is_open(dt.datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI))  # Sunday
    assert config.is_open(dt.datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI))  # Saturday morning
    assert not config.is_open(dt.datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI))  # National Day
    assert config.is_open(dt.datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI))  # 调休 Saturday
    service = config.services[0]
    assert not config.is_open(dt.datetime(2026, 11, 23, 17, 10, tzinfo=SHANGHAI), service)  # last ticket 17:00


def test_time_range_parsing() -> None:
    assert str(TimeRange.parse("08:30-12:00")) == "08:30-12:00"
    assert TimeRange.parse("00:00-24:00").contains(dt.time(23, 59, 59))
    with pytest.raises(ValueError):
        TimeRange.parse("8-12")


def test_check_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(example_config_path())]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("hall: {id: BAD}\nservices: []\n", encoding="utf-8")
    assert main(["check-config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "hall.id" in err and "hall.name" in err and "windows" in err
    (tmp_path / "syntax.yaml").write_text("hall: [\n", encoding="utf-8")
    assert main(["check-config", str(tmp_path / "syntax.yaml")]) == 1
    assert "not valid YAML" in capsys.readouterr().err


def test_server_section_is_optional_and_checked(example: dict) -> None:
    with_server = {**example, "server": {"port": 8100, "database": "postgresql://hall@db/hallq"}}
    config = parse_hall_config(with_server)
    assert config.server is not None and config.server.port == 8100
    with pytest.raises(ConfigError) as caught:
        parse_hall_config({**example, "server": {"port": 99999, "colour": "red"}})
    assert {path for path, _ in caught.value.errors} == {"server.port", "server.colour"}
