"""What every command checks before it starts, and the exit status of each way a start can fail.

A command that cannot start says why in one line on stderr and exits with a status of its own, so a
supervisor or a script can tell a busy port from a dead database without parsing text."""

from __future__ import annotations

import errno
import socket
from urllib.parse import urlsplit

import peewee

from server.errors import HedgingError
from server.store.db import open_database
from server.store.migrate import discover

EXIT_OK = 0
EXIT_FAILED = 1  # any other failure
EXIT_USAGE = 2  # a bad command line or a malformed setting
EXIT_CANNOT_LISTEN = 3  # a listen address is in use (or not this host's)
EXIT_DATABASE_UNREACHABLE = 4
EXIT_DATABASE_NOT_MIGRATED = 5


class StartupError(HedgingError):
    """A command cannot start; `exit_status` says which way."""

    exit_status = EXIT_FAILED


class CannotListen(StartupError):
    """A listen address is taken by another process or does not belong to this host."""

    exit_status = EXIT_CANNOT_LISTEN

    def __init__(self, address: str, variable: str, reason: str) -> None:
        super().__init__(f"cannot listen on {address} ({variable}): {reason}")


class DatabaseUnreachable(StartupError):
    """The database named by DATABASE_URL does not answer."""

    exit_status = EXIT_DATABASE_UNREACHABLE


class DatabaseNotMigrated(StartupError):
    """The database answers but its schema is behind this version's migrations."""

    exit_status = EXIT_DATABASE_NOT_MIGRATED


def check_listen(address: str, variable: str) -> None:
    """Raises `CannotListen` unless `address` (HOST:PORT) can be bound now. Port 0 always can."""
    host, _, port = address.rpartition(":")
    if int(port) == 0:
        return
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        # The servers set SO_REUSEADDR as create_server does, so a port only held in TIME_WAIT passes.
        with socket.create_server((host, int(port)), family=family):
            pass
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise CannotListen(address, variable, reason) from None


def describe_database(url: str) -> str:
    """The database URL without its user and password, for messages."""
    parts = urlsplit(url)
    where = parts.hostname or "(socket)"
    if parts.port:
        where += f":{parts.port}"
    return f"{parts.scheme}://{where}{parts.path}"


def check_database(url: str, *, require_current: bool) -> None:
    """Raises `DatabaseUnreachable` unless the database answers and, with `require_current`,
    `DatabaseNotMigrated` unless every migration of this version has been applied to it."""
    database = open_database(url)
    try:
        with database.connection_context():
            if require_current:
                _check_current(database)
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        # psycopg2's first line names host and port and the cause, never the password.
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseUnreachable(
            f"database unreachable at {describe_database(url)} ({cause}); check DATABASE_URL"
        ) from None
    finally:
        database.close()


def _check_current(database: peewee.Database) -> None:
    tables = database.get_tables()
    applied: set[int] = set()
    if "schema_migrations" in tables:
        applied = {row[0] for row in database.execute_sql("SELECT version FROM schema_migrations")}
    pending = [m.name for m in discover() if m.version not in applied]
    if pending:
        raise DatabaseNotMigrated(
            f"the database is not migrated ({len(pending)} pending: {', '.join(pending)}); run `hedging migrate`"
        )
