"""`hedging up` without DATABASE_URL: it starts PostgreSQL of its own in ./hedging-data/postgres,
everything starts, answers health checks and reflection, demo orders are stored, no secret is printed;
SIGTERM stops it cleanly, PostgreSQL included, and the next run reuses the data."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import psycopg2
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from server.store.local_postgres import LocalPostgres, default_binaries
from tests.harness import wait_until

CANARY_KEY = "0x" + "c0ffee" * 10 + "beef"


def _start_up(workdir: Path, **extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    env = {
        **os.environ,
        "HEDGING_GRPC_LISTEN": "127.0.0.1:0",
        "HEDGING_SIM_LISTEN": "127.0.0.1:0",
        "HEDGING_GATEWAY_LISTEN": "127.0.0.1:0",
        "HEDGING_METRICS_LISTEN": "127.0.0.1:0",
        "POLYMARKET_PRIVATE_KEY": CANARY_KEY,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_URL", None)
    env.update(extra)
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "up"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    process.reader = reader  # type: ignore[attr-defined]
    return process, lines


def _orders(url: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM user_order")
        return int(cur.fetchone()[0])


def _stop(process: subprocess.Popen[str], lines: list[str]) -> str:
    process.send_signal(signal.SIGTERM)
    code = process.wait(60)
    process.reader.join(10)  # type: ignore[attr-defined]
    assert process.stdout is not None
    process.stdout.close()
    output = "".join(lines)
    assert code == 0, output[-3000:]
    return output


def _database_line(process: subprocess.Popen[str], lines: list[str]) -> str:
    def printed() -> str | None:
        found = next((ln for ln in lines if ln.startswith("PostgreSQL listening on ")), None)
        if found is None and process.poll() is not None:
            raise AssertionError("hedging up exited: " + "".join(lines)[-3000:])
        return found

    return wait_until(printed, timeout=90, message="hedging up to print where PostgreSQL listens")


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A working directory the account PostgreSQL runs as (as root: nobody) can enter; pytest's
    tmp_path, under a 0700 directory, is not one."""
    path = Path(tempfile.mkdtemp(prefix="hedging-up-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_up_runs_the_whole_system_on_postgresql_of_its_own_and_answers_health_and_reflection(workdir):
    data_dir = workdir / "hedging-data" / "postgres"
    process, lines = _start_up(workdir)
    try:
        line = _database_line(process, lines)
        url = re.search(r"(postgresql://postgres@127\.0\.0\.1:\d+/hedging) \(data in (.+)\)$", line)
        assert url is not None and url.group(2) == str(data_dir), line
        url = url.group(1)
        grpc_line = wait_until(
            lambda: next((ln for ln in lines if "gRPC HedgingService listening on" in ln), None),
            timeout=60,
            message="hedging up to print where gRPC listens",
        )
        assert any("CLOB V2 simulator listening on http://127.0.0.1:" in ln for ln in lines)
        # The banner names every address, the metrics one included, and each answers.
        metrics_line = wait_until(
            lambda: next((ln for ln in lines if "Prometheus metrics on " in ln), None),
            timeout=10,
            message="the banner's metrics address",
        )
        metrics_url = re.search(r"(http://127\.0\.0\.1:\d+/metrics)\s*$", metrics_line).group(1)  # type: ignore[union-attr]
        served = httpx.get(metrics_url, timeout=10).text
        assert "hedging_orders" in served
        assert 'hedging_mode{mode="live"} 1.0' in served  # up switches a fresh store to live
        assert "hedging_build_info{" in served
        gateway_url = wait_until(
            lambda: next((ln for ln in lines if "GraphQL gateway listening on " in ln), None),
            timeout=10,
            message="the banner's gateway address",
        ).split()[-1]
        assert httpx.post(gateway_url, json={"query": "{ __typename }"}, timeout=10).status_code == 200
        port = int(re.search(r":(\d+)\s*$", grpc_line).group(1))  # type: ignore[union-attr]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for service in ("", "hedging.v1.HedgingService"):
                answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            replies = reflection.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            names = {s.name for reply in replies for s in reply.list_services_response.service}
            assert "hedging.v1.HedgingService" in names
        # Demo orders flow into the database the banner names.
        assert any(ln.startswith("store: postgresql://127.0.0.1:") for ln in lines)
        wait_until(lambda: _orders(url) > 0, timeout=30, message="a demo order stored")
    finally:
        output = _stop(process, lines)
    assert CANARY_KEY not in output
    assert CANARY_KEY[2:] not in output
    # SIGTERM stopped PostgreSQL too; its data stays for the next run.
    assert not LocalPostgres(data_dir, default_binaries()).running()
    assert (data_dir / "PG_VERSION").exists()
    stored = _orders_after_restart(workdir)
    assert stored[0] > 0, "the second run sees the first run's orders"


def _orders_after_restart(workdir: Path) -> tuple[int, str]:
    process, lines = _start_up(workdir)
    try:
        line = _database_line(process, lines)
        url = re.search(r"(postgresql://\S+/hedging)", line).group(1)  # type: ignore[union-attr]
        wait_until(lambda: any("Ctrl-C to stop" in ln for ln in lines), timeout=60, message="the banner")
        count = _orders(url)
    finally:
        output = _stop(process, lines)
    assert "applied migration" not in output  # the reused database is migrated already
    return count, output


def test_sigterm_while_starting_stops_the_postgresql_it_started(workdir):
    process, lines = _start_up(workdir)
    try:
        _database_line(process, lines)
    finally:
        _stop(process, lines)  # at once: the rest is still starting (or has just started)
    assert not LocalPostgres(workdir / "hedging-data" / "postgres", default_binaries()).running()


def test_up_on_postgresql_serves_grpc_from_two_workers_and_stops_them_on_sigterm(tmp_path, pg_db, pg_url):
    from server.store.models import UserOrder

    process, lines = _start_up(tmp_path, DATABASE_URL=pg_url)
    try:
        grpc_line = wait_until(
            lambda: next((ln for ln in lines if "gRPC HedgingService listening on" in ln), None),
            timeout=90,
            message="hedging up to print where gRPC listens",
        )
        workers = wait_until(
            lambda: (
                (found := [ln for ln in lines if re.match(r"worker \d \(pid \d+\): Prometheus", ln)])
                and len(found) == 2
                and found
            ),
            timeout=10,
            message="a banner line per worker",
        )
        pids = [int(re.search(r"pid (\d+)", ln).group(1)) for ln in workers]  # type: ignore[union-attr]
        assert len(set(pids)) == 2 and process.pid not in pids
        port = int(re.search(r":(\d+)\s*$", grpc_line).group(1))  # type: ignore[union-attr]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        wait_until(lambda: UserOrder.select().count() > 0, timeout=30, message="demo orders in PostgreSQL")
    finally:
        output = _stop(process, lines)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()], "the workers outlived up"
    assert "Traceback" not in output
    assert CANARY_KEY not in output
