"""The hub's settings (`hallq hub`): one validated tree, built in its `run()` and passed down.

Precedence: command line > environment (HALLQ_HUB_DATABASE, HALLQ_HUB_HOST, HALLQ_HUB_PORT,
HALLQ_HUB_ONLINE_WINDOW_S, HALLQ_DEMO) > defaults. The hub's own variables are not the dispatcher's
(HALLQ_DATABASE): a city centre's machine may run its hall's dispatcher beside the hub. The hub takes
larger request bodies than a hall (a batch of up to 1000 events), the other request limits are the
hall's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hallq.config import ConfigError, validation_errors
from server.settings import RequestLimits, limits_from_env

DEFAULT_HUB_PORT = 8100  # beside a hall's dispatcher (8000) on one machine
HUB_JSON_BYTES = 8 * 1024 * 1024
HUB_JSON_ITEMS = 200_000


class HubSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database: str = Field(min_length=1, description="postgresql://… (SQLite only to try the hub out)")
    host: str = "127.0.0.1"
    port: int = Field(DEFAULT_HUB_PORT, ge=0, le=65535)
    demo: bool = False
    session_hours: float = Field(12, gt=0, le=24 * 7, description="staff login lifetime")
    limits: RequestLimits = Field(default_factory=RequestLimits)
    online_window_s: float = Field(
        60.0, ge=5, le=3600, description="a hall heard from within this is online (its heartbeat: 20 s by default)"
    )


def build_hub_settings(
    *,
    database: str | None = None,
    host: str | None = None,
    port: int | None = None,
    demo: bool | None = None,
    online_window_s: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> HubSettings:
    """Merge the command line and the environment; raise ConfigError listing every problem."""
    env = os.environ if environ is None else environ
    demo_flag = demo if demo is not None else env.get("HALLQ_DEMO", "").lower() in ("1", "true", "yes")
    limits = {"max_json_bytes": HUB_JSON_BYTES, "max_json_items": HUB_JSON_ITEMS, **limits_from_env(env)}
    raw: dict[str, Any] = {"demo": demo_flag, "limits": limits}
    picked = (
        ("database", database, "HALLQ_HUB_DATABASE"),
        ("host", host, "HALLQ_HUB_HOST"),
        ("port", port, "HALLQ_HUB_PORT"),
        ("online_window_s", online_window_s, "HALLQ_HUB_ONLINE_WINDOW_S"),
    )
    for key, given, variable in picked:
        value = given if given is not None else env.get(variable)
        if value is not None:
            raw[key] = value
    if "database" not in raw:
        raise ConfigError("hub settings", [("database", "give --database postgresql://… (or HALLQ_HUB_DATABASE)")])
    try:
        return HubSettings(**raw)
    except ValidationError as exc:
        raise ConfigError("hub settings", validation_errors(exc)) from None
