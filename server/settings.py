"""The dispatcher's settings: one validated pydantic tree, built in `hallq server`'s `run()` and passed down.

One dispatcher may serve several halls: `--config` names a hall YAML file or a directory of them and
may be given more than once (HALLQ_CONFIG: a file or a directory); each file is one hall, its id the
file's `hall.id`. The first hall's `server:` section fills the dispatcher options.

Precedence: command line > environment (HALLQ_DATABASE, HALLQ_MQTT, HALLQ_HOST, HALLQ_PORT,
HALLQ_BROKER_PORT, HALLQ_FILES_DIR, HALLQ_CONFIG, HALLQ_HMAC_SECRET, HALLQ_DEMO, HALLQ_HUB,
HALLQ_HUB_TOKEN) > defaults; the hub's URL and each hall's uplink token also come from the hall
config's `network:` section (a token given on the command line is for a one-hall dispatcher).
No settings object exists at import time.
Outside demo mode the tree refuses insecure values: demo credentials, a missing or short HMAC secret.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from hallq.catalogue import Catalogue
from hallq.config import (
    ConfigError,
    HallConfig,
    names_items_by_code,
    parse_hall_config,
    read_hall_yaml,
    validation_errors,
)
from server.network.catalogue_cache import cache_path, read_cache, refresh

DEMO_PASSWORD = "demo"
DEMO_DEVICE_TOKEN = "demo-device-token"
# Fixed so per-person quotas survive a demo restart; refused outside demo mode like the demo passwords.
DEMO_HMAC_SECRET = "hallq-demo-hmac-secret-not-for-production"
MIN_SECRET_LENGTH = 32
DEFAULT_DEMO_DATABASE = "sqlite:///var/hallq-demo.sqlite3"


class InsecureSettings(Exception):
    """The server would run with credentials anybody can read in the documentation."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("refusing to start:\n" + "\n".join(f"  - {p}" for p in problems))


class RequestLimits(BaseModel):
    """What one client may cost the hall (issue 12): body sizes, JSON shape, header time, login tries.

    Each field is also read from the environment as HALLQ_<FIELD> (e.g. HALLQ_HEADER_TIMEOUT_S=5)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_json_bytes: int = Field(1024 * 1024, ge=1024, description="any body but a material upload")
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="one scanned material (PUT …/materials/N)")
    max_json_items: int = Field(10_000, ge=10, description="object keys plus array elements in one JSON body")
    max_json_depth: int = Field(32, ge=2, le=256, description="nested objects and arrays")
    header_timeout_s: float = Field(10.0, gt=0, le=300, description="a request's headers must arrive within this")
    body_idle_timeout_s: float = Field(30.0, gt=0, le=600, description="longest pause while a body arrives")
    login_per_address: str = Field("30/minute", description="login attempts per client address (limits syntax)")
    login_per_user: str = Field("10/minute", description="login attempts per user name")
    lockout_failures: int = Field(5, ge=1, description="wrong passwords in a row that lock a user name")
    lockout_minutes: float = Field(15.0, gt=0, description="how long a locked user name waits")

    @model_validator(mode="after")
    def _rates_parse(self) -> RequestLimits:
        from limits import parse

        for rate in (self.login_per_address, self.login_per_user):
            parse(rate)  # ValueError names the bad text
        return self


def limits_from_env(env: Mapping[str, str]) -> dict[str, str]:
    return {name: env[f"HALLQ_{name.upper()}"] for name in RequestLimits.model_fields if f"HALLQ_{name.upper()}" in env}


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    hall_config: HallConfig  # the first hall (its `server:` section is the dispatcher's)
    other_halls: tuple[HallConfig, ...] = ()  # further halls served by this dispatcher
    config_path: str
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    database: str = Field(min_length=1, description="SQLAlchemy URL: sqlite:///path or postgresql://…")
    mqtt_url: str | None = Field(None, description="broker URL; none = run the embedded broker")
    demo: bool = False
    hmac_secret: SecretStr
    session_hours: float = Field(12, gt=0, le=24 * 7, description="clerk login lifetime")
    sqlite_synchronous: str = Field("FULL", pattern="^(FULL|NORMAL|EXTRA)$")
    limits: RequestLimits = Field(default_factory=RequestLimits)
    broker_port: int = Field(1883, ge=0, le=65535, description="the embedded broker's port (no --mqtt)")
    files_dir: str | None = Field(None, description="uploaded materials; default: beside an SQLite database")
    hub_url: str | None = Field(None, pattern=r"^https?://", description="the city's hub (DESIGN §14); none: no uplink")
    hub_tokens: dict[str, SecretStr] = Field(default_factory=dict, description="hall → its uplink token")
    catalogue_path: str | None = Field(None, description="the hall's copy of the city's catalogue (统一事项)")
    forward_poll_s: float = Field(5.0, gt=0, le=3600, description="how often the hub is asked for cases forwarded here")

    @model_validator(mode="after")
    def _uplink_complete(self) -> ServerSettings:
        if self.hub_url is None and self.hub_tokens:
            raise ValueError("an uplink token is given but no hub: add --hub URL (HALLQ_HUB, or network.hub)")
        missing = [c.hall.id for c in self.halls if c.hall.id not in self.hub_tokens]
        if self.hub_url is not None and missing:
            raise ValueError(
                f"the hub is {self.hub_url} but hall(s) {', '.join(missing)} have no uplink token: give --hub-token "
                "(HALLQ_HUB_TOKEN) or the hall config's network.token, as `hallq hub add-hall` printed it"
            )
        return self

    @model_validator(mode="after")
    def _secret_long_enough(self) -> ServerSettings:
        secret = self.hmac_secret.get_secret_value()
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"HALLQ_HMAC_SECRET must be at least {MIN_SECRET_LENGTH} characters "
                "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        if secret == DEMO_HMAC_SECRET and not self.demo:
            raise ValueError("HALLQ_HMAC_SECRET is the published demo secret; set your own")
        return self

    @model_validator(mode="after")
    def _halls_apart(self) -> ServerSettings:
        problems = hall_clashes(self.halls)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def hmac_key(self) -> bytes:
        return self.hmac_secret.get_secret_value().encode("utf-8")

    @property
    def halls(self) -> list[HallConfig]:
        return [self.hall_config, *self.other_halls]


def hall_clashes(configs: list[HallConfig]) -> list[str]:
    """What two halls of one dispatcher may not share: the hall id, and (credentials are resolved
    dispatcher-wide, then confined to their hall) a device id, a user name or a device token."""
    problems: list[str] = []
    ids = [c.hall.id for c in configs]
    for hall in sorted({h for h in ids if ids.count(h) > 1}):
        problems.append(f"hall id {hall!r} is given by {ids.count(hall)} hall configs; each hall needs its own id")
    owner: dict[tuple[str, str], str] = {}
    for config in configs:
        keys = {("device id", d.id) for d in config.credentials.devices}
        keys |= {("device token", d.token_sha256) for d in config.credentials.devices}
        keys |= {("user name", u.username) for u in config.credentials.users}
        for what, key in sorted(keys):
            first = owner.setdefault((what, key), config.hall.id)
            if first != config.hall.id:
                shown = key[:12] + "…" if what == "device token" else key
                problems.append(f"{what} {shown!r} is in hall {first!r} and in hall {config.hall.id!r}")
    return problems


def _pick(cli: Any, env: Mapping[str, str], name: str) -> Any:
    return cli if cli is not None else env.get(f"HALLQ_{name.upper()}")


def build_settings(
    *,
    config: str | list[str] | None = None,
    host: str | None = None,
    port: int | None = None,
    database: str | None = None,
    mqtt: str | None = None,
    demo: bool | None = None,
    hmac_secret: str | None = None,
    broker_port: int | None = None,
    hub: str | None = None,
    hub_token: str | None = None,
    environ: Mapping[str, str] | None = None,
    check_credentials: bool = True,
) -> ServerSettings:
    """Merge command line and environment, load the hall config, validate; raise ConfigError listing
    every problem, or InsecureSettings outside demo mode."""
    env = os.environ if environ is None else environ
    demo_flag = demo if demo is not None else env.get("HALLQ_DEMO", "").lower() in ("1", "true", "yes")
    given = _pick(config, env, "config")
    paths = [given] if isinstance(given, str) else list(given or [])
    database_given = _pick(database, env, "database")
    catalogue_file = _catalogue_file(paths, database_given, demo_flag, env.get("HALLQ_CATALOGUE_CACHE"))
    configs = _load_configs(paths, demo_flag, lambda: _hall_catalogue(paths, _pick(hub, env, "hub"), catalogue_file))
    hall_config = configs[0]
    raw: dict[str, Any] = {
        "hall_config": hall_config,
        "other_halls": tuple(configs[1:]),
        "config_path": paths[0] if paths else str(_example_path()),
        "demo": demo_flag,
        "database": database_given or (DEFAULT_DEMO_DATABASE if demo_flag else None),
        "catalogue_path": str(catalogue_file),
        "mqtt_url": _pick(mqtt, env, "mqtt") or None,
        "hmac_secret": _pick(hmac_secret, env, "hmac_secret") or (DEMO_HMAC_SECRET if demo_flag else ""),
        "limits": limits_from_env(env),
    }
    picked = (
        ("host", _pick(host, env, "host")),
        ("port", _pick(port, env, "port")),
        ("broker_port", _pick(broker_port, env, "broker_port")),
        ("files_dir", env.get("HALLQ_FILES_DIR")),
        ("forward_poll_s", env.get("HALLQ_FORWARD_POLL_S")),
    )
    for key, value in picked:
        if value is not None:
            raw[key] = value
    _from_config_section(raw, hall_config)
    _uplink(raw, configs, _pick(hub, env, "hub"), _pick(hub_token, env, "hub_token"))
    if raw["database"] is None:
        raw["database"] = "sqlite:///var/hallq.sqlite3"
    if demo_flag:
        where = (raw.get("host", "127.0.0.1"), raw.get("port", 8000))
        raw["hall_config"] = _demo_status_url(hall_config, *where)
        raw["other_halls"] = tuple(_demo_status_url(c, *where) for c in configs[1:])
    try:
        settings = ServerSettings(**raw)
    except ValidationError as exc:
        raise ConfigError("server settings", validation_errors(exc)) from None
    if check_credentials and not settings.demo:
        problems = [p for c in settings.halls for p in insecure_credentials(c)]
        if problems:
            raise InsecureSettings(problems)
    return settings


def _from_config_section(raw: dict[str, Any], hall_config: HallConfig) -> None:
    """Fill what the command line and environment left open from the hall config's optional
    `server:` section (host, port, database, mqtt), where the config schema has one."""
    section = getattr(hall_config, "server", None)
    if section is None:
        return
    values = section if isinstance(section, dict) else section.model_dump()
    for ours, theirs in (("host", "host"), ("port", "port"), ("database", "database"), ("mqtt_url", "mqtt")):
        if raw.get(ours) is None and values.get(theirs) is not None:
            raw[ours] = values[theirs]


def _uplink(raw: dict[str, Any], configs: list[HallConfig], hub: str | None, token: str | None) -> None:
    """The hub's URL (given, else the first hall config naming one) and each hall's uplink token (its
    config's `network.token`; a token given on the command line or in the environment is the hall's
    when the dispatcher serves one hall)."""
    sections = [(c.hall.id, c.network) for c in configs if c.network is not None]
    named = sorted({n.hub for _hall, n in sections if n.hub})
    if hub is None and len(named) > 1:
        raise ConfigError("server settings", [("network.hub", f"the halls name different hubs: {', '.join(named)}")])
    if token is not None and len(configs) > 1:
        raise ConfigError(
            "server settings",
            [("hub_token", "a dispatcher of several halls takes each hall's token from its config's network.token")],
        )
    raw["hub_url"] = hub or (named[0] if named else None)
    tokens = {hall: n.token for hall, n in sections if n.token}
    if token is not None:
        tokens[configs[0].hall.id] = token
    raw["hub_tokens"] = tokens


def _example_path() -> Path:
    from hallq.config import example_config_path

    return example_config_path()


def hall_config_files(paths: list[str]) -> list[Path]:
    """The hall files named: each path a YAML file, or a directory whose *.yaml / *.yml files are
    halls (sorted by name; a directory without any is an error, not an empty dispatcher)."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not found:
            raise ConfigError(str(path), [("(directory)", "no hall config (*.yaml, *.yml) in this directory")])
        files.extend(found)
    return files


def _load_configs(paths: list[str], demo: bool, catalogue: Callable[[], Catalogue | None]) -> list[HallConfig]:
    """The hall configs; `catalogue` is asked (once) only when one names an item by code."""
    if not paths:
        if not demo:
            raise ConfigError("server settings", [("config", "give --config FILE (or HALLQ_CONFIG), or --demo")])
        paths = [str(_example_path())]
    raws = [(path, read_hall_yaml(path)) for path in hall_config_files(paths)]
    needed = catalogue() if any(names_items_by_code(raw) for _path, raw in raws) else None
    configs = [parse_hall_config(raw, str(path), needed) for path, raw in raws]
    problems = hall_clashes(configs)
    if problems:
        raise ConfigError("server settings", [("config", problem) for problem in problems])
    if demo:
        # A demo must work at any hour: force the hall open around the clock.
        configs = [c.model_copy(update={"hall": c.hall.model_copy(update={"around_the_clock": True})}) for c in configs]
    return configs


def _raw_sections(paths: list[str], section: str) -> list[dict[str, Any]]:
    """A section (server:, network:) of each hall file as written, before the catalogue is known."""
    found = []
    for path in hall_config_files(paths) if paths else []:
        raw = read_hall_yaml(path)
        value = raw.get(section) if isinstance(raw, dict) else None
        if isinstance(value, dict):
            found.append(value)
    return found


def _catalogue_file(paths: list[str], database: str | None, demo: bool, given: str | None) -> Path:
    """Where the hall keeps its copy of the catalogue: beside its database (as the settings will pick it)."""
    written = next((s["database"] for s in _raw_sections(paths, "server") if s.get("database")), None)
    chosen = database or written or (DEFAULT_DEMO_DATABASE if demo else "sqlite:///var/hallq.sqlite3")
    return cache_path(str(chosen), given)


def _hall_catalogue(paths: list[str], hub: str | None, path: Path) -> Catalogue | None:
    """The city's catalogue for items named by code: from the hub (its copy kept), else the copy."""
    hub = hub or next((s["hub"] for s in _raw_sections(paths, "network") if s.get("hub")), None)
    if hub is None:
        cached = read_cache(path)
    else:
        cached, _changed = refresh(str(hub), path)
    return cached.catalogue if cached else None


def _demo_status_url(config: HallConfig, host: Any, port: Any) -> HallConfig:
    """In demo mode the ticket QR codes point at this very server, whatever port it runs on."""
    if config.hall.status_base_url.rstrip("/") != "http://127.0.0.1:8000":
        return config
    reachable = "127.0.0.1" if str(host) in ("0.0.0.0", "::", "") else str(host)
    hall = config.hall.model_copy(update={"status_base_url": f"http://{reachable}:{port}"})
    return config.model_copy(update={"hall": hall})


def insecure_credentials(config: HallConfig) -> list[str]:
    """Every configured credential that verifies with the published demo password or token."""
    from argon2 import PasswordHasher
    from argon2.exceptions import Argon2Error

    demo_sha = hashlib.sha256(DEMO_DEVICE_TOKEN.encode()).hexdigest()
    problems = [
        f"device {d.id!r} uses the demo token {DEMO_DEVICE_TOKEN!r}"
        for d in config.credentials.devices
        if d.token_sha256 == demo_sha
    ]
    hasher = PasswordHasher()
    verdicts: dict[str, bool] = {}  # argon2 is slow on purpose; users often share one hash in examples
    for user in config.credentials.users:
        if user.password_hash not in verdicts:
            try:
                verdicts[user.password_hash] = hasher.verify(user.password_hash, DEMO_PASSWORD)
            except (Argon2Error, ValueError):
                verdicts[user.password_hash] = False
        if verdicts[user.password_hash]:
            problems.append(f"user {user.username!r} has the demo password {DEMO_PASSWORD!r}")
    return problems


def demo_database_path(database: str) -> Path | None:
    """The file behind a sqlite:/// URL (its folder is created at start), or None."""
    prefix = "sqlite:///"
    if database.startswith(prefix) and database != "sqlite:///:memory:":
        return Path(database[len(prefix) :])
    return None
