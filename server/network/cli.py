"""`hallq hub`: run the city's hub, register halls (`add-hall`), add its staff (`add-user`).

    hallq hub --database postgresql://… [--host H] [--port P] [--demo]
    hallq hub add-hall HALL --name NAME --kind center|sub_center|town|village [--parent HALL]
                            [--timezone Asia/Shanghai] --database postgresql://…
    hallq hub add-user USER --role supervisor|admin [--password-stdin] --database postgresql://…
    hallq hub catalogue import FILE --database postgresql://…

Heavy imports stay inside the functions so `hallq --help` stays fast."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

log = logging.getLogger("hallq.hub")
KINDS = ("center", "sub_center", "town", "village")


def _database_option(parser: argparse.ArgumentParser, *, on_action: bool) -> None:
    # On an action the default is SUPPRESS, so `hallq hub --database X add-hall …` keeps X.
    parser.add_argument(
        "--database",
        default=argparse.SUPPRESS if on_action else None,
        help="the hub's database: postgresql://… (HALLQ_HUB_DATABASE)",
    )


def register_hub(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("hub", help="the city's hub: the halls' events and the city's numbers (DESIGN §14)")
    _database_option(parser, on_action=False)
    parser.add_argument("--host", help="listen address (HALLQ_HUB_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port (HALLQ_HUB_PORT, default 8100)")
    parser.add_argument("--demo", action="store_true", default=None, help="accept the demo login admin / demo")
    parser.add_argument(
        "--online-window", type=float, metavar="SECONDS",
        help="a hall heard from within this is online (HALLQ_HUB_ONLINE_WINDOW_S, default 60)",
    )  # fmt: skip
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    add_hall = actions.add_parser("add-hall", help="register a hall (or register it again) and print its uplink token")
    add_hall.add_argument("hall", help="the hall's id, as in its config (hall.id)")
    add_hall.add_argument("--name", required=True, help="e.g. 下蜀镇便民服务中心")
    add_hall.add_argument("--kind", required=True, choices=KINDS)
    add_hall.add_argument("--parent", help="the hall above it (registered first)")
    add_hall.add_argument("--timezone", default="Asia/Shanghai", help="where its days are counted")
    _database_option(add_hall, on_action=True)
    add_user = actions.add_parser("add-user", help="add (or reset) a hub user; the password is asked for")
    add_user.add_argument("username")
    add_user.add_argument("--role", choices=("supervisor", "admin"), default="supervisor")
    add_user.add_argument("--display-name", default="")
    add_user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _database_option(add_user, on_action=True)
    catalogue = actions.add_parser("catalogue", help="publish the city's catalogue of items (统一事项) from a file")
    catalogue.add_argument("verb", choices=("import",), help="import: replace the published catalogue with FILE")
    catalogue.add_argument("file", help="YAML: items: [...], or services: [...] as in a hall config")
    _database_option(catalogue, on_action=True)
    parser.set_defaults(func=run_hub)


def run_hub(args: argparse.Namespace) -> int:
    from hallq.config import ConfigError
    from server.network.settings import build_hub_settings

    try:
        settings = build_hub_settings(
            database=getattr(args, "database", None), host=args.host, port=args.port, demo=args.demo,
            online_window_s=args.online_window,
        )  # fmt: skip
    except ConfigError as exc:
        return _fail(exc)
    if args.action == "add-hall":
        return _add_hall(args, settings.database)
    if args.action == "add-user":
        return _add_user(args, settings.database)
    if args.action == "catalogue":
        return _import_catalogue(args, settings.database)
    return _serve(settings)


def _fail(exc: Exception) -> int:
    print(f"hallq: {exc}", file=sys.stderr)
    return 2


def _migrated_store(database: str):  # type: ignore[no-untyped-def]
    from server.store import Store

    store = Store(database)
    store.migrate()
    return store


def _add_hall(args: argparse.Namespace, database: str) -> int:
    from server.auth import new_token, sha256_hex
    from server.network.registry import HallRegistry, RegistryError
    from server.store import AuditLog

    store = _migrated_store(database)
    token = new_token()
    try:
        registered = HallRegistry(store.engine).add(
            args.hall,
            name=args.name,
            kind=args.kind,
            parent=args.parent,
            timezone=args.timezone,
            token_sha256=sha256_hex(token),
        )
        detail = {"kind": registered.kind, "parent": registered.parent}
        AuditLog(store.engine).write(None, f"cli:{getpass.getuser()}", "admin", "hub_add_hall", registered.hall, detail)
    except RegistryError as exc:
        return _fail(exc)
    finally:
        store.close()
    print(token)
    print(
        f"(hall {registered.hall}, {registered.kind}, parent {registered.parent or '-'}, acked_seq "
        f"{registered.acked_seq}; the token is shown once: give it to the hall as --hub-token or network.token)",
        file=sys.stderr,
    )
    return 0


def _add_user(args: argparse.Namespace, database: str) -> int:
    from server.auth import hash_password
    from server.store import AuditLog, CredentialStore

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            return _fail(ValueError("the two passwords differ"))
    if len(password) < 8:
        return _fail(ValueError("a password needs at least 8 characters"))
    engine = _migrated_store(database).engine
    CredentialStore(engine).add_user(args.username, hash_password(password), args.role, args.display_name)
    AuditLog(engine).write(None, f"cli:{getpass.getuser()}", "admin", "user_add", args.username, {"role": args.role})
    print(f"hub user {args.username} ({args.role}) saved")
    return 0


def _import_catalogue(args: argparse.Namespace, database: str) -> int:
    """Validate the whole file first (every problem at once); publish only a file without any."""
    from hallq.catalogue import load_catalogue_file
    from hallq.config import ConfigError
    from server.network.catalogue import document, publish
    from server.store import AuditLog

    try:
        items = load_catalogue_file(args.file)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    store = _migrated_store(database)
    try:
        published, withdrawn = publish(store.engine, items)
        etag = document(store.engine).etag
        detail = {"file": args.file, "items": published, "withdrawn": withdrawn, "etag": etag}
        AuditLog(store.engine).write(None, f"cli:{getpass.getuser()}", "admin", "hub_catalogue", "catalogue", detail)
    finally:
        store.close()
    print(f"catalogue published: {published} items, {withdrawn} withdrawn (ETag {etag}); halls fetch it within minutes")
    return 0


def _serve(settings) -> int:  # type: ignore[no-untyped-def]
    import uvicorn

    from server.app import refuse_demo_users
    from server.http_protocol import guarded_protocol
    from server.network.hub_app import create_hub_app
    from server.settings import InsecureSettings

    if not settings.demo:
        try:
            refuse_demo_users(_migrated_store(settings.database))
        except InsecureSettings as exc:
            return _fail(exc)
    if settings.database.startswith("sqlite"):
        log.warning("the hub runs on SQLite: fine to try it out; the city's hub runs on PostgreSQL (docs/network.md)")
    log.info(
        "hallq hub on http://%s:%s (database %s, %s)",
        settings.host,
        settings.port,
        settings.database.split("@")[-1],
        "demo mode: admin / demo accepted" if settings.demo else "production mode",
    )
    uvicorn.run(
        create_hub_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        http=guarded_protocol(settings.limits.header_timeout_s),
        timeout_keep_alive=5,
    )
    return 0
