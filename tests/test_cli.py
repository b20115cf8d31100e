"""The `hedging` command line: a start that cannot happen says why in one line on stderr with an exit
status of its own (no traceback); `--version`; each command's `--help` names its options and the
environment variables it reads, with defaults and never a configured value."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg2
import pytest

from server.preflight import CannotListen
from server.rpc.server import start_grpc_server
from server.rpc.service import HedgingServicer
from tests.pgserver import database_url

KEY = "0x" + "5eed" * 16
PASSWORD = "not-a-real-password-4711"


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another process-like holder is listening on."""
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.fixture
def dead_port() -> int:
    """A port nothing listens on (bound once to find it free, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unmigrated_url(pg_admin_url: str) -> Iterator[str]:
    name = f"hedging_unmigrated_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg_admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(pg_admin_url, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def _hedging(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HEDGING_", "POLYMARKET_"))}
    base.pop("DATABASE_URL", None)
    base.update(
        {
            "HEDGING_GRPC_LISTEN": "127.0.0.1:0",
            "HEDGING_GATEWAY_LISTEN": "127.0.0.1:0",
            "HEDGING_SIM_LISTEN": "127.0.0.1:0",
            "HEDGING_METRICS_LISTEN": "127.0.0.1:0",
            "HEDGING_DEV_MODE": "1",
            "POLYMARKET_CLOB_URL": "http://127.0.0.1:9",
            "POLYMARKET_PRIVATE_KEY": KEY,
        }
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], env=base, capture_output=True, text=True, timeout=60
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.parametrize(
    ("command", "variable"),
    [
        ("serve", "HEDGING_GRPC_LISTEN"),
        ("gateway", "HEDGING_GATEWAY_LISTEN"),
        ("up", "HEDGING_GRPC_LISTEN"),
        ("up", "HEDGING_GATEWAY_LISTEN"),
        ("up", "HEDGING_SIM_LISTEN"),
        ("sim", "HEDGING_SIM_LISTEN"),
    ],
)
def test_a_listen_address_in_use_fails_in_one_line_with_status_3(
    command, variable, busy_port, pg_url, tmp_path
):
    address = f"127.0.0.1:{busy_port}"
    result = _hedging(command, DATABASE_URL=pg_url, **{variable: address})
    assert result.returncode == 3, result.stderr
    assert _one_line(result) == f"hedging: cannot listen on {address} ({variable}): address already in use"


@pytest.mark.parametrize("command", ["serve", "gateway", "migrate", "up"])
def test_an_unreachable_database_fails_in_one_line_with_status_4_and_no_password(command, dead_port):
    url = f"postgresql://hedger:{PASSWORD}@127.0.0.1:{dead_port}/hedging"
    result = _hedging(command, DATABASE_URL=url)
    assert result.returncode == 4, result.stderr
    line = _one_line(result)
    assert line.startswith(f"hedging: database unreachable at postgresql://127.0.0.1:{dead_port}/hedging (")
    assert line.endswith("check DATABASE_URL")
    assert PASSWORD not in result.stderr + result.stdout


def test_the_gateway_on_an_unmigrated_database_fails_in_one_line_with_status_5(unmigrated_url):
    result = _hedging("gateway", DATABASE_URL=unmigrated_url)
    assert result.returncode == 5, result.stderr
    line = _one_line(result)
    assert line.startswith("hedging: the database is not migrated (")
    assert "0001_initial" in line
    assert line.endswith("run `hedging migrate`")


def test_a_malformed_variable_fails_in_one_line_with_status_2():
    result = _hedging("migrate", HEDGING_LOG_FORMAT="xml")
    assert result.returncode == 2
    assert (
        _one_line(result)
        == "hedging: configuration error: HEDGING_LOG_FORMAT must be text or json, got 'xml'"
    )


def test_the_grpc_server_reports_a_busy_port_as_cannot_listen(busy_port):
    async def scenario() -> None:
        await start_grpc_server(f"127.0.0.1:{busy_port}", HedgingServicer.__new__(HedgingServicer))

    with pytest.raises(CannotListen, match="HEDGING_GRPC_LISTEN"):
        asyncio.run(scenario())


def test_version_prints_the_installed_version():
    from importlib.metadata import version

    result = _hedging("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"hedging {version('polymarket-hedging')}"


# Which variables each command reads, written out here rather than taken from the code under test.
EXPECTED_VARIABLES = {
    "serve": [
        "DATABASE_URL",
        "HEDGING_GRPC_LISTEN",
        "HEDGING_METRICS_LISTEN",
        "POLYMARKET_CLOB_URL",
        "POLYMARKET_PRIVATE_KEY",
        "POLYMARKET_API_KEY",
        "HEDGING_LOG_LEVEL",
        "HEDGING_LOG_FORMAT",
        "HEDGING_WORKERS",
    ],
    "gateway": [
        "DATABASE_URL",
        "HEDGING_GATEWAY_LISTEN",
        "HEDGING_ADMIN_TOKENS",
        "HEDGING_DEV_MODE",
        "HEDGING_LOG_FORMAT",
    ],
    "migrate": ["DATABASE_URL", "HEDGING_LOG_LEVEL"],
    "sim": ["HEDGING_SIM_LISTEN", "HEDGING_LOG_LEVEL"],
    "up": [
        "DATABASE_URL",
        "HEDGING_GRPC_LISTEN",
        "HEDGING_GATEWAY_LISTEN",
        "HEDGING_SIM_LISTEN",
        "HEDGING_METRICS_LISTEN",
        "HEDGING_WORKERS",
    ],
}


@pytest.mark.parametrize("command", sorted(EXPECTED_VARIABLES))
def test_each_commands_help_lists_its_options_and_variables_with_defaults_never_values(command):
    secret_token = "viewer:admin:" + "s3cr3t" * 4
    result = _hedging(
        command,
        "--help",
        HEDGING_ADMIN_TOKENS=secret_token,
        DATABASE_URL="postgresql://u:configured-pw@db.internal/x",
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "-h, --help" in text
    for variable in EXPECTED_VARIABLES[command]:
        assert variable in text, variable
    assert "exit status:" in text
    # Defaults, not the environment's values: neither the key, the token nor the configured URL shows.
    assert KEY not in text and "s3cr3t" not in text and "configured-pw" not in text
    assert (
        "default: none (up: its own PostgreSQL in ./hedging-data/postgres)" in text
        or "DATABASE_URL" not in EXPECTED_VARIABLES[command]
    )
    if command == "sim":
        for option in (
            "--markets",
            "--default-collateral",
            "--page-size",
            "--move-books",
            "--seed",
            "--profile",
        ):
            assert option in text
    if command in ("serve", "up"):
        assert "--workers" in text
    if command == "migrate":
        assert "HEDGING_GRPC_LISTEN" not in text


def test_a_busy_ipv6_address_is_reported_as_in_use():
    from server.preflight import check_listen

    try:
        holder = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with holder:
        port = holder.getsockname()[1]
        with pytest.raises(CannotListen, match="address already in use"):
            check_listen(f"[::1]:{port}", "HEDGING_GRPC_LISTEN")


@pytest.mark.parametrize("count", ["0", "65", "two", "²"])
def test_a_bad_worker_count_is_a_usage_error_with_status_2(count):
    result = _hedging("serve", "--workers", count)
    assert result.returncode == 2
    assert "--workers: must be from 1 to 64" in result.stderr
