"""Personal-data helpers and the settings tree (no server needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from hallq.config import ConfigError, example_config_path
from server import pii
from server.settings import DEMO_HMAC_SECRET, InsecureSettings, build_settings


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("欧阳明", "欧*明"), ("欧阳小明", "欧**明"), ("李", "*"), (" 王五 ", "王*")]
)
def test_names_are_masked(name: str, masked: str) -> None:
    assert pii.mask_name(name) == masked


def test_id_hash_is_keyed_and_normalized() -> None:
    key = b"k" * 32
    upper = pii.id_hash(key, "32011519450101123X")
    assert pii.id_hash(key, " 32011519450101123x ") == upper
    assert pii.id_hash(b"other-key" * 4, "32011519450101123X") != upper
    assert "32011519450101123X" not in upper and len(upper) == 64
    with pytest.raises(pii.InvalidIdCard):
        pii.id_hash(key, "3201151945010112")
    with pytest.raises(pii.InvalidIdCard):
        pii.parse_birth("19451301")


def test_age_counts_from_the_birthday() -> None:
    birth = dt.date(1966, 6, 15)
    assert pii.age_on(birth, dt.date(2026, 6, 14)) == 59
    assert pii.age_on(birth, dt.date(2026, 6, 15)) == 60


def test_demo_settings_open_the_hall_around_the_clock() -> None:
    settings = build_settings(demo=True, environ={})
    assert settings.hall_config.hall.around_the_clock and settings.hall_config.hall.id == "demo"
    assert settings.database.startswith("sqlite:///var/") and settings.mqtt_url is None


def test_command_line_beats_environment() -> None:
    env = {"HALLQ_DATABASE": "sqlite:///env.db", "HALLQ_MQTT": "mqtt://env:1883", "HALLQ_PORT": "9001"}
    settings = build_settings(demo=True, environ=env, database="sqlite:///cli.db")
    assert (settings.database, settings.mqtt_url, settings.port) == ("sqlite:///cli.db", "mqtt://env:1883", 9001)
    assert settings.hall_config.hall.status_base_url == "http://127.0.0.1:9001"  # demo QR codes reach this server


def test_production_settings_refuse_what_is_insecure() -> None:
    config = str(example_config_path())
    with pytest.raises(ConfigError, match="HALLQ_HMAC_SECRET"):
        build_settings(config=config, environ={"HALLQ_HMAC_SECRET": DEMO_HMAC_SECRET})
    with pytest.raises(ConfigError, match="at least 32"):
        build_settings(config=config, environ={"HALLQ_HMAC_SECRET": "too-short"})
    with pytest.raises(ConfigError, match="--demo"):
        build_settings(environ={"HALLQ_HMAC_SECRET": "s" * 40})
    with pytest.raises(InsecureSettings, match="demo-device-token"):
        build_settings(config=config, environ={"HALLQ_HMAC_SECRET": "s" * 40})
