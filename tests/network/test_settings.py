"""Where a hall's dispatcher finds its hub and its uplink token (server/settings.py), and the hub's
own settings (server/network/settings.py): command line > environment > the hall config's
`network:` section, every problem said in a sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hallq.config import ConfigError, example_config_path
from server.app import _start_uplink
from server.network.settings import HUB_JSON_ITEMS, build_hub_settings
from server.runtime import Dispatcher
from server.settings import build_settings
from server.store import Store

SECRET = {"HALLQ_HMAC_SECRET": "s" * 40}
TOKEN = "uplink-token-0123456789abcdef"


def hall_file(tmp_path: Path, hall: str, network: dict[str, Any] | None = None) -> str:
    data = yaml.safe_load(example_config_path().read_text(encoding="utf-8"))
    data["hall"]["id"] = hall
    data["credentials"] = {}
    if network is not None:
        data["network"] = network
    path = tmp_path / f"{hall}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_the_hub_and_token_come_from_the_command_line_the_environment_or_the_config(tmp_path: Path) -> None:
    town = hall_file(tmp_path, "town")
    given = build_settings(config=town, hub="https://hub.example", hub_token=TOKEN, environ=SECRET)
    assert given.hub_url == "https://hub.example" and given.hub_tokens["town"].get_secret_value() == TOKEN
    from_env = build_settings(config=town, environ={**SECRET, "HALLQ_HUB": "http://h:8100", "HALLQ_HUB_TOKEN": TOKEN})
    assert from_env.hub_url == "http://h:8100" and from_env.hub_tokens["town"].get_secret_value() == TOKEN
    configured = hall_file(tmp_path, "village", {"hub": "https://hub.example", "token": TOKEN})
    from_config = build_settings(config=configured, environ=SECRET)
    assert from_config.hub_url == "https://hub.example"
    assert from_config.hub_tokens["village"].get_secret_value() == TOKEN
    assert build_settings(config=town, environ=SECRET).hub_url is None  # no hub: no uplink


def test_an_incomplete_uplink_is_refused_with_a_sentence(tmp_path: Path) -> None:
    town = hall_file(tmp_path, "town")
    with pytest.raises(ConfigError, match="no uplink token"):
        build_settings(config=town, hub="https://hub.example", environ=SECRET)
    with pytest.raises(ConfigError, match="no hub"):
        build_settings(config=town, hub_token=TOKEN, environ=SECRET)
    other = hall_file(tmp_path, "other", {"hub": "https://hub.example", "token": TOKEN + "x"})
    with pytest.raises(ConfigError, match="each hall's token"):
        build_settings(config=[town, other], hub_token=TOKEN, environ=SECRET)
    elsewhere = hall_file(tmp_path, "elsewhere", {"hub": "https://other-hub.example", "token": TOKEN + "y"})
    with pytest.raises(ConfigError, match="different hubs"):
        build_settings(config=[other, elsewhere], environ=SECRET)


def test_the_hub_settings_take_larger_batches_and_need_a_database() -> None:
    settings = build_hub_settings(environ={"HALLQ_HUB_DATABASE": "postgresql://hub", "HALLQ_HUB_PORT": "9000"})
    assert (settings.database, settings.port, settings.demo) == ("postgresql://hub", 9000, False)
    assert settings.limits.max_json_items == HUB_JSON_ITEMS
    with pytest.raises(ConfigError, match="--database"):
        build_hub_settings(environ={})


def test_the_hubs_online_window_and_a_halls_heartbeat_are_set_where_people_set_them(tmp_path: Path) -> None:
    """`hallq hub --online-window` (or HALLQ_HUB_ONLINE_WINDOW_S) and `network.heartbeat_s`: a demo shows
    a cut line within 15 s; a city keeps the minute. Out of range is refused with the field's name."""
    assert build_hub_settings(database="postgresql://hub", environ={}).online_window_s == 60
    from_env = build_hub_settings(environ={"HALLQ_HUB_DATABASE": "x", "HALLQ_HUB_ONLINE_WINDOW_S": "15"})
    assert from_env.online_window_s == 15
    assert build_hub_settings(database="x", online_window_s=30, environ={}).online_window_s == 30
    with pytest.raises(ConfigError, match="online_window_s"):
        build_hub_settings(database="x", online_window_s=1, environ={})
    town = hall_file(tmp_path, "town", {"hub": "https://hub.example", "token": TOKEN, "heartbeat_s": 5})
    settings = build_settings(config=town, environ=SECRET, database=f"sqlite:///{tmp_path / 'town.db'}")
    store = Store(settings.database)
    uplink = _start_uplink(settings, Dispatcher(settings, store))  # the hub is not there: it only retries
    assert uplink is not None
    try:
        assert uplink.heartbeat_s == 5
    finally:
        uplink.stop()
        store.close()
    with pytest.raises(ConfigError, match="heartbeat_s"):
        build_settings(config=hall_file(tmp_path, "bad", {"heartbeat_s": 0.5}), environ=SECRET)
