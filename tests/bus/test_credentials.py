"""Password file and ACL (hallq mqtt-credentials), checked against a real Mosquitto."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from hallq.config import example_config_path, load_hall_config
from hallq.mqtt_credentials import DEMO_TOKEN, hall_users, mosquitto_hash, mosquitto_verify, render_acl


def test_hash_matches_mosquitto_passwd(tmp_path: Path) -> None:
    passwd = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "alice", "s3cret"], check=True)
    stored = passwd.read_text().strip().split(":", 1)[1]
    assert mosquitto_verify("s3cret", stored)
    assert not mosquitto_verify("wrong", stored)
    ours = mosquitto_hash("s3cret")
    assert ours.startswith("$7$101$") and mosquitto_verify("s3cret", ours)


def test_tokens_checked_against_config() -> None:
    config = load_hall_config(example_config_path())
    users, problems = hall_users(config, {})
    assert users == [] and "no token given" in problems[0]
    users, problems = hall_users(config, {"demo-device": "not-the-token"})
    assert users == [] and "does not match" in problems[0]
    users, problems = hall_users(config, {"demo-device": DEMO_TOKEN})
    assert problems == [] and users[0].username == "demo-device"
    assert hashlib.sha256(users[0].password.encode()).hexdigest() == config.credentials.devices[0].token_sha256


def test_acl_lets_a_device_write_only_its_status_and_windows() -> None:
    config = load_hall_config(example_config_path())
    users, _ = hall_users(config, {}, demo=True)
    acl = render_acl(users)
    assert "user demo-device" in acl
    assert "topic read hallq/v1/demo/#" in acl
    assert "topic readwrite hallq/v1/demo/devices/demo-device/status" in acl
    assert "topic write hallq/v1/demo/windows/12/commands" in acl
    assert "topic write hallq/v1/demo/board" not in acl and "readwrite hallq/v1/demo/#" not in acl


def test_command_refuses_missing_tokens(tmp_path: Path) -> None:
    from hallq.cli import main

    out = tmp_path / "out"
    assert main(["mqtt-credentials", str(example_config_path()), "--out", str(out)]) == 1
    assert not out.exists()
    assert (
        main(
            ["mqtt-credentials", str(example_config_path()), "--out", str(out), "--demo", "--dispatcher-password", "pw"]
        )
        == 0
    )
    assert (out / "passwd").read_text().startswith("hallq-dispatcher:$7$")


@pytest.mark.parametrize("bad", ["demo-device=", "=x", "nosep"])
def test_command_rejects_bad_token_option(tmp_path: Path, bad: str) -> None:
    from hallq.cli import main

    assert main(["mqtt-credentials", str(example_config_path()), "--out", str(tmp_path), "--token", bad]) == 2


def test_shipped_acl_example_is_what_the_command_writes(tmp_path: Path) -> None:
    from hallq.cli import main

    assert main(["mqtt-credentials", str(example_config_path()), "--out", str(tmp_path), "--demo",
                 "--dispatcher-password", "x"]) == 0  # fmt: skip
    example = (Path(__file__).resolve().parents[2] / "config" / "mosquitto.acl.example").read_text()
    assert (tmp_path / "acl").read_text() in example


def test_shipped_mosquitto_conf_keeps_what_halls_need() -> None:
    conf = (Path(__file__).resolve().parents[2] / "config" / "mosquitto.conf").read_text()
    directives = dict(
        line.split(None, 1) for line in conf.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )
    assert directives["allow_anonymous"].strip() == "false"
    assert directives["persistence"].strip() == "true"
    assert "password_file" in directives and "acl_file" in directives
    assert int(directives["max_queued_messages"]) >= 20000  # a 2000-call burst to a slow board is not dropped
    assert int(directives["max_inflight_messages"]) > 20
