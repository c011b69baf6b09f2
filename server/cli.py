"""`hallq server`, `user`, `token`, `stats`: entry points of the [server] extra (group hallq.commands).

Heavy imports (FastAPI, SQLAlchemy, uvicorn) stay inside `run` so `hallq --help` stays fast."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

log = logging.getLogger("hallq.server")


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        action="append",
        help="hall config YAML, or a directory of them (one hall each); repeat for more halls (env HALLQ_CONFIG)",
    )
    parser.add_argument(
        "--database", help="SQLAlchemy URL: sqlite:///var/hallq.sqlite3 or postgresql://… (HALLQ_DATABASE)"
    )
    parser.add_argument("--demo", action="store_true", default=None, help="the demo hall and its database")


def register_server(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("server", help="run the dispatcher (HTTP API, queue engine, MQTT publisher)")
    _store_options(parser)
    parser.add_argument("--host", help="listen address (HALLQ_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port (HALLQ_PORT, default 8000)")
    parser.add_argument("--mqtt", help="broker URL mqtt://user:pass@host:port (HALLQ_MQTT); none = embedded broker")
    parser.add_argument(
        "--broker-port",
        "--mqtt-port",
        dest="broker_port",
        type=int,
        help="port of the embedded broker when --mqtt is not given (HALLQ_BROKER_PORT, default 1883)",
    )
    parser.add_argument("--hub", help="the city's hub to ship the hall's events to (HALLQ_HUB, network.hub)")
    parser.add_argument("--hub-token", help="this hall's uplink token from `hallq hub add-hall` (HALLQ_HUB_TOKEN)")
    parser.set_defaults(func=run_server)


def register_user(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("user", help="manage clerk / supervisor / admin accounts")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add (or reset) a user; the password is asked for or read from stdin")
    add.add_argument("username")
    add.add_argument("--role", choices=("clerk", "supervisor", "admin", "department"), default="clerk")
    add.add_argument("--display-name", default="", help="masked name shown on screens, e.g. 王*")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _store_options(add)
    hash_cmd = actions.add_parser("hash", help="print an argon2 hash for the hall config's credentials.users")
    hash_cmd.add_argument("--password-stdin", action="store_true")
    parser.set_defaults(func=run_user)


def register_token(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("token", help="manage device tokens (kiosks, boards, bridges)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a device token; it is printed once, only its sha256 is kept")
    create.add_argument("device", help="device id, e.g. kiosk-1")
    create.add_argument(
        "--kind",
        required=True,
        choices=("kiosk", "board", "terminal", "voice", "window_screen", "keypad_bridge", "evaluator", "bridge"),
    )
    create.add_argument("--windows", default="", help="windows the device may command, e.g. 1,2")
    _store_options(create)
    revoke = actions.add_parser("revoke", help="revoke every token of a device")
    revoke.add_argument("device")
    _store_options(revoke)
    parser.set_defaults(func=run_token)


def register_stats(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("stats", help="statistics: rebuild the hourly roll-ups from the events")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    rebuild = actions.add_parser(
        "rebuild", help="recompute the halls' roll-ups from the events table (safe while the server runs)"
    )
    _store_options(rebuild)
    seed = actions.add_parser(
        "seed-demo",
        help="fill a fresh demo database with a month of past traffic through the real engine (hallq demo does it)",
    )
    _store_options(seed)
    seed.add_argument("--days", type=int, default=30, help="calendar days before today (working days are simulated)")
    seed.add_argument("--per-day", type=int, default=220, help="tickets on an ordinary weekday")
    seed.add_argument("--seed", type=int, default=2026, help="random seed (the same seed gives the same month)")
    parser.set_defaults(func=run_stats)


def run_seed_demo(args: argparse.Namespace) -> int:
    """A month of history for the demo hall; refused on a database that already has events."""
    from hallq.config import ConfigError
    from server.settings import InsecureSettings
    from server.stats.demo_history import HistoryPlan, seed_database

    try:
        settings = _settings(args, check_credentials=False)
    except (ConfigError, InsecureSettings) as exc:
        return _fail(exc)
    if not settings.demo:
        return _fail(ValueError("seed-demo fills the demo hall only: add --demo"))
    store = _open_store(settings)
    try:
        existing = store.last_seq(settings.halls[0].hall.id)
    finally:
        store.close()
    if existing:
        return _fail(ValueError(f"the database already has {existing} events: seed-demo wants a fresh one"))
    seeded = seed_database(settings, HistoryPlan(days=args.days, per_day=args.per_day, seed=args.seed))
    first, last = (seeded.days[0], seeded.days[-1]) if seeded.days else ("-", "-")
    print(
        f"demo history: {len(seeded.days)} working days ({first} to {last}), {seeded.issued} tickets,"
        f" {seeded.served} served, {seeded.ratings} ratings; {seeded.events_folded} events folded into the statistics"
    )
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from hallq.config import ConfigError
    from server.settings import InsecureSettings
    from server.stats.rollups import rebuild

    if args.action == "seed-demo":
        return run_seed_demo(args)
    try:
        settings = _settings(args, check_credentials=False)
    except (ConfigError, InsecureSettings) as exc:
        return _fail(exc)
    store = _open_store(settings)
    try:
        for config in settings.halls:
            folded = rebuild(store, config.hall.id, ZoneInfo(config.hall.timezone))
            print(f"hall {config.hall.id}: {folded} events folded into the statistics")
    finally:
        store.close()
    return 0


def _settings(args: argparse.Namespace, **overrides: object):  # type: ignore[no-untyped-def]
    from server.settings import build_settings

    return build_settings(
        config=getattr(args, "config", None),
        database=getattr(args, "database", None),
        demo=getattr(args, "demo", None),
        **overrides,  # type: ignore[arg-type]
    )


def _halls_named(configs: list) -> str:  # type: ignore[type-arg]
    ids = [c.hall.id for c in configs]
    if len(ids) == 1:
        return f"hall {ids[0]}"
    return f"{len(ids)} halls ({', '.join(ids[:5])}{', …' if len(ids) > 5 else ''})"


def _fail(exc: Exception) -> int:
    print(f"hallq: {exc}", file=sys.stderr)
    return 2


def run_server(args: argparse.Namespace) -> int:

    from hallq.config import ConfigError
    from server.settings import InsecureSettings

    try:
        settings = _settings(
            args,
            host=args.host,
            port=args.port,
            mqtt=args.mqtt,
            broker_port=args.broker_port,
            hub=args.hub,
            hub_token=args.hub_token,
        )
    except (ConfigError, InsecureSettings) as exc:
        return _fail(exc)
    if not settings.demo:
        from server.app import refuse_demo_users

        try:
            refuse_demo_users(_open_store(settings))
        except InsecureSettings as exc:
            return _fail(exc)
    mqtt_port = settings.broker_port
    if settings.mqtt_url is None:
        from hallq.broker import DEFAULT_HOST, port_free, port_in_use_message

        if mqtt_port == settings.port:
            print(
                f"hallq: the HTTP API and the embedded MQTT broker cannot both use port {mqtt_port}: "
                "choose another with --port or --broker-port",
                file=sys.stderr,
            )
            return 2
        if not port_free(DEFAULT_HOST, mqtt_port):
            print(f"hallq: {port_in_use_message(DEFAULT_HOST, mqtt_port, '--broker-port')}", file=sys.stderr)
            return 2
    import uvicorn

    from server.app import create_app
    from server.http_protocol import guarded_protocol

    app = create_app(settings, embedded_mqtt_port=mqtt_port)
    log.info(
        "hallq dispatcher for %s on http://%s:%s (database %s, %s)",
        _halls_named(settings.halls),
        settings.host,
        settings.port,
        settings.database.split("@")[-1],
        "demo mode" if settings.demo else "production mode",
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        http=guarded_protocol(settings.limits.header_timeout_s),  # half-sent headers time out
        timeout_keep_alive=5,
    )
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def run_user(args: argparse.Namespace) -> int:
    from hallq.config import ConfigError
    from server.auth import hash_password
    from server.settings import DEMO_PASSWORD, InsecureSettings

    try:
        password = _read_password(args.password_stdin)
    except ValueError as exc:
        return _fail(exc)
    if len(password) < 8 and not (getattr(args, "demo", None) and password == DEMO_PASSWORD):
        return _fail(ValueError("a password needs at least 8 characters"))
    if args.action == "hash":
        print(hash_password(password))
        return 0
    try:
        credentials, audit = _open_credentials(_settings(args, check_credentials=False))
    except (ConfigError, InsecureSettings) as exc:
        return _fail(exc)
    credentials.add_user(args.username, hash_password(password), args.role, args.display_name)  # ends old logins
    audit.write(None, f"cli:{getpass.getuser()}", "admin", "user_add", args.username, {"role": args.role})
    print(f"user {args.username} ({args.role}) saved")
    return 0


def run_token(args: argparse.Namespace) -> int:
    from hallq.config import ConfigError
    from server.auth import new_token, sha256_hex
    from server.settings import InsecureSettings

    try:
        settings = _settings(args, check_credentials=False)
    except (ConfigError, InsecureSettings) as exc:
        return _fail(exc)
    credentials, audit = _open_credentials(settings)
    actor = f"cli:{getpass.getuser()}"
    if args.action == "revoke":
        configured = [  # the hall config's own credentials for the device: revoked in the store too
            {"token_sha256": d.token_sha256, "kind": d.kind.value, "windows": list(d.windows)}
            for config in settings.halls
            for d in config.credentials.devices
            if d.id == args.device
        ]
        count = credentials.revoke_device(args.device, configured)
        audit.write(None, actor, "admin", "token_revoke", args.device, {"count": count})
        print(f"revoked {count} token(s) of {args.device}")
        return 0 if count else 1
    windows = [w.strip() for w in args.windows.split(",") if w.strip()]
    known = {w.id for config in settings.halls for w in config.windows}
    unknown = [w for w in windows if w not in known]
    if unknown:
        return _fail(ValueError(f"unknown window(s): {', '.join(unknown)}"))
    token = new_token()
    credentials.add_device_token(args.device, args.kind, sha256_hex(token), windows)
    audit.write(None, actor, "admin", "token_create", args.device, {"kind": args.kind, "windows": windows})
    print(token)
    print(f"(device {args.device}, kind {args.kind}; shown once — only its sha256 is stored)", file=sys.stderr)
    return 0


def _open_store(settings):  # type: ignore[no-untyped-def]
    from server.store import Store

    store = Store(settings.database, sqlite_synchronous=settings.sqlite_synchronous)
    store.migrate()
    return store


def _open_credentials(settings):  # type: ignore[no-untyped-def]
    """The credentials and the audit log of the dispatcher's database (migrated first)."""
    from server.store import AuditLog, CredentialStore

    engine = _open_store(settings).engine
    return CredentialStore(engine), AuditLog(engine)
