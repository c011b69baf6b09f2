"""Options every device command shares (DESIGN.md section 2), from the command line, the
environment (HALLQ_SERVER, …) and a device config file, in that order of precedence."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hallq.config import ConfigError, validation_errors

DEMO_TOKEN = "demo-device-token"
DEMO_SERVER = "http://127.0.0.1:8000"
DEMO_MQTT = "mqtt://127.0.0.1:1883"
HARDWARE_OPTIONS = ("printer", "idcard", "scanner", "led", "keypad", "evaluator", "locker")


class DeviceSettings(BaseModel):
    """One device process's settings, validated once in `main()` and passed down."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    server: str = DEMO_SERVER
    mqtt: str = DEMO_MQTT
    hall: str = "demo"
    device: str = Field(min_length=1)
    token: str | None = None
    demo: bool = False
    printer: str | None = None
    idcard: str | None = None
    scanner: str | None = None
    led: str | None = None
    keypad: str | None = None
    evaluator: str | None = None
    locker: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict, description="options of one device kind")

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def add_device_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("device options (also HALLQ_* environment, --config file)")
    group.add_argument("--config", help="device config file (YAML) with any of these options")
    group.add_argument("--server", help=f"dispatcher URL (default {DEMO_SERVER})")
    group.add_argument("--mqtt", help=f"MQTT broker URL, mqtt://user:pass@host:port (default {DEMO_MQTT})")
    group.add_argument("--hall", help="hall id (default demo)")
    group.add_argument("--device", help="this device's id (default: KIND-HOSTNAME)")
    group.add_argument("--token", help="this device's token")
    group.add_argument("--demo", action="store_true", default=None, help="use the demo hall's credentials")
    for name in HARDWARE_OPTIONS:
        group.add_argument(f"--{name}", help=f"{name} device URL (serial://, usb://, tcp://, file://, sim:)")


def device_settings(
    args: argparse.Namespace, kind: str, extra_keys: tuple[str, ...] = (), environ: dict[str, str] | None = None
) -> DeviceSettings:
    """Merge command line > environment > config file > defaults; raise ConfigError listing all problems."""
    env = os.environ if environ is None else environ
    keys = ("server", "mqtt", "hall", "device", "token", "demo", *HARDWARE_OPTIONS)
    merged: dict[str, Any] = {}
    source = getattr(args, "config", None) or env.get("HALLQ_CONFIG")
    if source:
        merged.update(_read_file(source))
    for key in (*keys, *extra_keys):
        value = env.get(f"HALLQ_{key.upper().replace('-', '_')}")
        if value is not None:
            merged[key] = value.lower() in ("1", "true", "yes") if key == "demo" else value
    for key in (*keys, *extra_keys):
        value = getattr(args, key.replace("-", "_"), None)
        if value is not None:
            merged[key] = value
    extra = {k: merged.pop(k) for k in list(merged) if k in extra_keys}
    extra.update(merged.pop("extra", {}) or {})
    if merged.get("demo") and not merged.get("token"):
        merged["token"] = DEMO_TOKEN
    merged.setdefault("device", f"{kind}-{os.uname().nodename}".replace(".", "-")[:48])
    try:
        return DeviceSettings(kind=kind, extra=extra, **merged)
    except ValidationError as exc:
        raise ConfigError(source or "device options", validation_errors(exc)) from None


def _read_file(path: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(path, [("(file)", str(exc))]) from None
    if not isinstance(data, dict):
        raise ConfigError(path, [("(top)", "a device config file is a mapping of option: value")])
    return {str(k).replace("-", "_"): v for k, v in data.items()}
