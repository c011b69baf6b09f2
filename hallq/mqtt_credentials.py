"""`hallq mqtt-credentials`: the Mosquitto password file and ACL, written from hall configs.

Who may do what on the broker (DESIGN.md section 5):
- the dispatcher (one user, `hallq-dispatcher` by default) reads and writes everything under each
  hall's root; it alone writes `calls`, `board`, `windows/{window}` and `dispatcher/status`;
- a device (username = device id, password = device token) reads its hall's topics, writes its own
  `devices/{device}/status`, and writes `windows/{window}/commands` only for the windows its
  credential lists (keypad bridges, evaluators).

The hall config keeps only the sha256 of each device token, so the tokens themselves come from the
administrator (`--tokens FILE` with `device: token` lines, or `--token device=token`); each is
checked against its sha256. Passwords are stored as Mosquitto 2's PBKDF2-SHA512 (`$7$`) hashes,
computed here, so `mosquitto_passwd` is not needed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import os
import secrets
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hallq.config import ConfigError, HallConfig, load_hall_config
from hallq.contract import ROOT, Topics

DISPATCHER_USER = "hallq-dispatcher"
DEMO_TOKEN = "demo-device-token"
PBKDF2_ITERATIONS = 101  # Mosquitto 2's own default for `$7$`
SALT_BYTES = 12


def mosquitto_hash(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A password-file hash in Mosquitto 2's `$7$` format (PBKDF2-HMAC-SHA512)."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def mosquitto_verify(password: str, stored: str) -> bool:
    """Check a password against a `$7$` hash (used by tests and `--check`)."""
    try:
        _, kind, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    computed = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
    return secrets.compare_digest(base64.b64encode(computed).decode(), digest)


@dataclass
class BrokerUser:
    username: str
    password: str
    read: list[str] = field(default_factory=list)
    write: list[str] = field(default_factory=list)
    readwrite: list[str] = field(default_factory=list)
    comment: str = ""


class CredentialError(Exception):
    """Tokens missing or wrong; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def dispatcher_user(halls: Iterable[str], password: str, username: str = DISPATCHER_USER) -> BrokerUser:
    roots = [f"{Topics(h).root}/#" for h in halls]
    return BrokerUser(username, password, readwrite=roots, comment="the dispatcher: the only writer of hall state")


def device_user(hall: str, device: str, token: str, windows: Iterable[str] = (), kind: str = "") -> BrokerUser:
    topics = Topics(hall)
    return BrokerUser(
        device,
        token,
        read=[f"{topics.root}/#"],
        # readwrite so a device may also read back its own retained status after a restart
        readwrite=[topics.device_status(device)],
        write=[topics.window_commands(w) for w in windows],
        comment=f"device {device} ({kind or 'device'}) of hall {hall}",
    )


def hall_users(
    config: HallConfig, tokens: Mapping[str, str], *, demo: bool = False
) -> tuple[list[BrokerUser], list[str]]:
    """One broker user per device credential of the hall; problems for tokens missing or wrong."""
    users: list[BrokerUser] = []
    problems: list[str] = []
    for cred in config.credentials.devices:
        token = tokens.get(cred.id)
        if token is None and demo and _sha256(DEMO_TOKEN) == cred.token_sha256:
            token = DEMO_TOKEN
        if token is None:
            problems.append(f"device {cred.id}: no token given (--token {cred.id}=TOKEN or --tokens FILE)")
            continue
        if _sha256(token) != cred.token_sha256:
            problems.append(f"device {cred.id}: the token given does not match token_sha256 in the hall config")
            continue
        users.append(device_user(config.hall.id, cred.id, token, cred.windows, cred.kind.value))
    return users, problems


def render_password_file(users: Iterable[BrokerUser]) -> str:
    return "".join(f"{u.username}:{mosquitto_hash(u.password)}\n" for u in users)


def render_acl(users: Iterable[BrokerUser]) -> str:
    lines = [
        "# hallq ACL for Mosquitto (written by `hallq mqtt-credentials`; edit the hall config instead).",
        "# A device reads its hall's topics and writes only its own status and its windows' commands;",
        "# only the dispatcher writes calls, board, windows/{window} and dispatcher/status.",
        "",
    ]
    for user in users:
        lines += [f"# {user.comment}" if user.comment else "#", f"user {user.username}"]
        lines += [f"topic read {t}" for t in user.read]
        lines += [f"topic write {t}" for t in user.write]
        lines += [f"topic readwrite {t}" for t in user.readwrite]
        lines.append("")
    return "\n".join(lines)


def broker_account(name: str) -> tuple[int, int] | None:
    """(uid, gid) for files the broker must read: keep our owner and give them the broker's group, or,
    where there is no such group, the broker's user and its group. None where neither exists."""
    import grp  # Unix only, like Mosquitto's files: imported here so `hallq` starts anywhere
    import pwd

    try:
        return -1, grp.getgrnam(name).gr_gid
    except KeyError:
        pass
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        return None
    return account.pw_uid, account.pw_gid


def write_broker_files(
    users: list[BrokerUser], out_dir: Path, broker_user: str | None = None
) -> tuple[Path, Path, str]:
    """Write `passwd` and `acl` into out_dir, 0640 (they hold password hashes), readable by the broker
    account `broker_user` (Mosquitto drops root for user `mosquitto` before it reads them). Returns the
    paths and a sentence saying who can read them."""
    owner = broker_account(broker_user) if broker_user else None
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    passwd, acl = out_dir / "passwd", out_dir / "acl"
    for path, text in ((passwd, render_password_file(users)), (acl, render_acl(users))):
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o640)
        if owner is not None:
            _give(tmp, owner)
        os.replace(tmp, path)  # atomic: a broker reloading meanwhile never sees half a file
    if created and owner is not None:
        _give(out_dir, owner)
        os.chmod(out_dir, 0o750)
    return passwd, acl, _readers(passwd, broker_user, owner)


def _give(path: Path, owner: tuple[int, int]) -> None:
    with contextlib.suppress(PermissionError):  # not root and not in that group: _readers says so
        os.chown(path, *owner)


def _readers(path: Path, broker_user: str | None, owner: tuple[int, int] | None) -> str:
    info = path.stat()
    who = f"{_user_name(info.st_uid)}:{_group_name(info.st_gid)} mode {stat.S_IMODE(info.st_mode):04o}"
    if broker_user is None:
        return f"files are {who}"
    if owner is None:
        return f"files are {who}; there is no {broker_user!r} account here: let the broker's user read them"
    if owner[1] != info.st_gid:
        return f"files are {who}: run as root (or as a member of {broker_user!r}) so the broker can read them"
    return f"files are {who}, readable by the broker ({broker_user})"


def _user_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def read_tokens_file(path: str) -> dict[str, str]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(path, [("(file)", str(exc))]) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(path, [("(top)", "a tokens file is a mapping of device id: token")])
    return {str(k): v for k, v in data.items()}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the command -------------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "mqtt-credentials",
        help="write the Mosquitto password file and ACL from hall configs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("configs", nargs="+", metavar="HALL_CONFIG", help="hall config file(s) served by this broker")
    parser.add_argument("--out", required=True, help="directory for `passwd` and `acl` (e.g. /etc/mosquitto/hallq)")
    parser.add_argument("--tokens", help="YAML file of `device-id: token` lines")
    parser.add_argument("--token", action="append", default=[], metavar="DEVICE=TOKEN", help="a device's token")
    parser.add_argument("--dispatcher-user", default=DISPATCHER_USER)
    parser.add_argument(
        "--dispatcher-password",
        help="the dispatcher's broker password (default: $HALLQ_MQTT_PASSWORD, else a new random one, printed)",
    )
    parser.add_argument("--demo", action="store_true", help="use the documented demo token where it matches")
    parser.add_argument(
        "--broker-user",
        default="mosquitto",
        help="the account the broker runs as; the files get its group (or its user) so it can read them",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        tokens = read_tokens_file(args.tokens) if args.tokens else {}
        for pair in args.token:
            device, sep, token = pair.partition("=")
            if not sep or not device or not token:
                print(f"--token {pair!r}: write it as DEVICE=TOKEN", file=sys.stderr)
                return 2
            tokens[device] = token
        configs = [load_hall_config(path) for path in args.configs]
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    password = args.dispatcher_password or os.environ.get("HALLQ_MQTT_PASSWORD")
    generated = password is None
    password = password or secrets.token_urlsafe(24)
    users = [dispatcher_user([c.hall.id for c in configs], password, args.dispatcher_user)]
    problems: list[str] = []
    seen: dict[str, str] = {args.dispatcher_user: "(dispatcher)"}
    for config in configs:
        hall_devices, hall_problems = hall_users(config, tokens, demo=args.demo)
        problems += hall_problems
        for user in hall_devices:
            if user.username in seen:
                problems.append(f"device id {user.username} is used twice ({seen[user.username]}, {config.hall.id})")
            seen[user.username] = config.hall.id
        users += hall_devices
    if problems:
        print("no files written:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    passwd, acl, readers = write_broker_files(users, Path(args.out), args.broker_user)
    print(f"wrote {passwd} ({len(users)} users) and {acl}; {readers}; reload the broker (SIGHUP) to apply")
    print(f"broker topic root: {ROOT}/<hall>; dispatcher user: {args.dispatcher_user}")
    if generated:
        print(f"dispatcher password (new, keep it): {password}")
        print(f"  hallq server --mqtt 'mqtt://{args.dispatcher_user}:{password}@BROKER:1883'")
    return 0
