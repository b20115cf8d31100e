"""`hedging up` on the embedded default: everything starts, answers health checks and reflection,
never prints a secret, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

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


def _stop(process: subprocess.Popen[str]) -> int:
    """SIGTERM; returns the exit status once everything printed has been read."""
    process.send_signal(signal.SIGTERM)
    code = process.wait(60)
    process.reader.join(10)  # type: ignore[attr-defined]
    assert process.stdout is not None
    process.stdout.close()
    return code


def test_up_runs_the_whole_system_on_sqlite_and_answers_health_and_reflection(tmp_path):
    process, lines = _start_up(tmp_path)
    try:
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
        # The embedded default is a SQLite file in the working directory, and demo orders flow into it.
        assert (tmp_path / "hedging.db").exists()
        wait_until(
            lambda: any("store: sqlite:///hedging.db" in ln for ln in lines), timeout=10, message="store line"
        )
    finally:
        code = _stop(process)
    output = "".join(lines)
    assert code == 0, output[-3000:]
    assert CANARY_KEY not in output
    assert CANARY_KEY[2:] not in output


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
        code = _stop(process)
    output = "".join(lines)
    assert code == 0, output[-3000:]
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()], "the workers outlived up"
    assert "Traceback" not in output
    assert CANARY_KEY not in output
