"""Device options: command line over environment over the device config file."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from hallq.config import ConfigError
from hallq.device import DEMO_TOKEN, add_device_options, device_settings


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_device_options(parser)
    parser.add_argument("--zone")
    return parser.parse_args(argv)


def test_precedence_cli_env_file(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.yaml"
    config.write_text("server: http://file:8000\nhall: filehall\ndevice: kiosk-7\nzone: 2F\n", encoding="utf-8")
    env = {"HALLQ_SERVER": "http://env:8000", "HALLQ_TOKEN": "t-env"}
    settings = device_settings(parse(["--config", str(config), "--hall", "cli"]), "kiosk", ("zone",), env)
    assert settings.server == "http://env:8000"
    assert settings.hall == "cli"
    assert settings.device == "kiosk-7"
    assert settings.token == "t-env"
    assert settings.extra == {"zone": "2F"}
    assert settings.auth_headers() == {"Authorization": "Bearer t-env"}


def test_demo_uses_the_demo_token() -> None:
    settings = device_settings(parse(["--demo"]), "board", environ={})
    assert settings.token == DEMO_TOKEN and settings.hall == "demo" and settings.device.startswith("board-")


def test_bad_device_file_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        device_settings(parse(["--config", str(config)]), "kiosk", environ={})
    config.write_text("colour: red\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="colour"):
        device_settings(parse(["--config", str(config)]), "kiosk", environ={})
