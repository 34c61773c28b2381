"""The ``track`` command: serve, migrate, manage users and tokens, load demo data."""

import argparse
import asyncio
import getpass
import os
import sys

from app.accounts import AccountError, create_token_for, create_user
from app.config import ConfigurationError, load_settings, termination_log_path
from app.crash import crash_report, write_crash_report
from app.logs import configure_logging

ROLES = ("engineer", "manager", "admin")


def _settings(args, *, demo: bool = False):
    return load_settings(demo=demo or getattr(args, "demo", False))


def cmd_serve(args) -> int:
    from app.server import serve

    settings = _settings(args)
    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return 0


async def _with_database(settings, action):
    """Run ``action`` on a migrated database, so no command meets a missing table."""
    from app.db import Database
    from app.migrate import migrate

    database = Database(settings.database_url, instrument=False)
    try:
        await migrate(database)
        return await action(database)
    finally:
        await database.dispose()


def cmd_migrate(args) -> int:
    from app.migrate import current_revision

    settings = _settings(args, demo=True)
    revision = asyncio.run(_with_database(settings, current_revision))
    print(f"database schema at revision {revision}")
    return 0


def _read_password(args) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise SystemExit("error: the passwords do not match")
    from app.passwords import MIN_PASSWORD_LENGTH

    if len(password) < MIN_PASSWORD_LENGTH:
        raise SystemExit(f"error: the password must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


def cmd_user_create(args) -> int:
    settings = _settings(args, demo=True)
    password = _read_password(args)

    async def action(database):
        return await create_user(
            database,
            username=args.username,
            role=args.role,
            password=password,
            display_name=args.display_name,
            timezone=args.timezone,
        )

    user = asyncio.run(_with_database(settings, action))
    print(f"created {user.role} {user.username} (id {user.id})")
    return 0


def cmd_token_create(args) -> int:
    settings = _settings(args, demo=True)

    async def action(database):
        return await create_token_for(database, args.username, args.name)

    print(asyncio.run(_with_database(settings, action)))
    return 0


def cmd_demo(args) -> int:
    from app.demo import load_demo

    settings = _settings(args, demo=True)

    async def action(database):
        await load_demo(database, progress=not args.quiet)

    asyncio.run(_with_database(settings, action))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="track", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web service")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    serve.add_argument("--workers", type=int, default=1, help="number of worker processes")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="allow the built-in secret key when TRACK_SECRET_KEY is unset (local use only)",
    )
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(handler=cmd_migrate)

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True
    )
    create = user.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--display-name", default=None, help="full name shown in the UI")
    create.add_argument("--timezone", default="UTC", help="IANA time zone, e.g. Europe/Berlin")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(handler=cmd_user_create)

    token = commands.add_parser("token", help="manage API tokens").add_subparsers(
        dest="action", required=True
    )
    token_create = token.add_parser("create", help="create an API token and print it")
    token_create.add_argument("username")
    token_create.add_argument("--name", default="cli", help="a label for the token")
    token_create.set_defaults(handler=cmd_token_create)

    demo = commands.add_parser("demo", help="load the demo dataset (safe to run twice)")
    demo.add_argument("--quiet", action="store_true", help="do not show progress")
    demo.set_defaults(handler=cmd_demo)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Commands other than serve print their results on stdout, so their logs go to stderr.
    configure_logging(os.environ.get("TRACK_LOG_LEVEL", "INFO").upper(), stream=sys.stderr)
    try:
        return args.handler(args)
    except ConfigurationError as error:
        # Bad configuration is fatal: leave a crash report for the orchestrator too.
        print(f"error: {error}", file=sys.stderr)
        write_crash_report(crash_report(error, "configuration"), termination_log_path())
        return 2
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
