"""`hedging serve --workers 2`: both workers serve the one port, SIGTERM to the parent drains them and
exits 0, a worker killed with SIGKILL is replaced, the workers die with a killed parent, and a worker
that cannot start stops the whole server with its exit status (server/workers.py)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from hedging.v1 import hedging_service_pb2 as pb
from tests.harness import ServerProcess, server_env, set_config, wait_until

_SERVED = re.compile(r'^hedging_grpc_requests_total\{[^}]*method="GetExposure"[^}]*\} (\S+)$', re.M)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie nobody reaped yet counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _get_exposure_calls(metrics_url: str | None) -> int:
    assert metrics_url is not None
    text = httpx.get(metrics_url, timeout=10).text
    return int(sum(float(v) for v in _SERVED.findall(text)))


def _env(pg_url: str, sim_url: str) -> dict[str, str]:
    return {**server_env(pg_url, sim_url), "HEDGING_LOG_LEVEL": "INFO"}


def test_both_workers_serve_the_one_port_and_sigterm_drains_them_and_exits_0(pg_db, pg_url, sim, mappings):
    set_config(pg_db, mode="off")
    server = ServerProcess(_env(pg_url, sim.url), workers=2)
    try:
        assert len(set(server.worker_pids)) == 2 and server.process.pid not in server.worker_pids
        stubs = server.stubs(16)  # 16 connections: all on one worker would be a 1 in 2**15 chance
        for stub in stubs * 3:
            stub.GetExposure(pb.GetExposureRequest(), timeout=10)
        served = [_get_exposure_calls(url) for url in server.metrics_urls]
        assert sum(served) == 48
        assert all(count > 0 for count in served), served

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(30) == 0
        assert not any(_alive(pid) for pid in server.worker_pids)
    finally:
        server.stop()
    output = "".join(server.output)
    assert "received SIGTERM: draining every worker" in output
    assert output.count("stopping: draining in-flight calls") == 2  # each worker drained
    assert "Traceback" not in output


def test_a_worker_killed_with_sigkill_is_replaced_and_the_port_keeps_serving(pg_db, pg_url, sim, mappings):
    set_config(pg_db, mode="off")
    server = ServerProcess(_env(pg_url, sim.url), workers=2)
    try:
        victim = server.worker_pids[1]
        os.kill(victim, signal.SIGKILL)
        line = wait_until(
            lambda: next((ln for ln in server.output if "serves again as pid" in ln), None),
            timeout=60,
            message="the parent to replace the killed worker",
        )
        assert any(f"worker 1 (pid {victim}) died (signal 9); restarting it" in ln for ln in server.output)
        replacement = int(line.rsplit(" ", 1)[1])
        assert _alive(replacement) and replacement != victim and _alive(server.worker_pids[0])
        for stub in server.stubs(16):  # new connections reach either worker, and all are answered
            stub.GetExposure(pb.GetExposureRequest(), timeout=10)

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(30) == 0
        assert not _alive(replacement)
    finally:
        server.stop()


def test_the_workers_die_with_a_parent_killed_with_sigkill(pg_db, pg_url, sim, mappings):
    server = ServerProcess(_env(pg_url, sim.url), workers=2)
    workers = list(server.worker_pids)
    server.kill()
    wait_until(lambda: not any(_alive(pid) for pid in workers), timeout=10, message="the workers to die")


def test_a_worker_that_cannot_start_stops_the_server_with_its_exit_status(pg_db, pg_url):
    # Nothing listens at the venue URL (a port bound, never listened on): deriving API credentials
    # fails in the first worker.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    unused_port = holder.getsockname()[1]
    env = {
        **os.environ,
        **server_env(pg_url, f"http://127.0.0.1:{unused_port}"),
        "HEDGING_GRPC_LISTEN": "127.0.0.1:0",
        "HEDGING_METRICS_LISTEN": "127.0.0.1:0",
    }
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    holder.close()
    assert result.returncode == 1, result.stderr
    assert "could not create or derive Polymarket API credentials" in result.stderr
    assert "worker 0 " in result.stderr and "exited with status 1 before serving; stopping" in result.stderr
    assert "listening on" not in result.stdout
