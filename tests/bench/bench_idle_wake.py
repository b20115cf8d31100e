"""What each step of PlaceOrder's floor costs when it runs after an idle gap, as it does inside an
order, against the same step back to back (the baseline, measured in the same run).

PlaceOrder's floor (`bench_place_order.py`) adds up the medians of five steps measured back to back:
two INSERT+COMMIT round trips, one signing, one HTTP round trip to the simulator and one gRPC echo.
Inside an order no step runs back to back: each peer (PostgreSQL, the simulator, the server) sat idle
while the others worked. This script measures each cross-process step after idle gaps of 0, 2, 5
and 10 ms, and prints per step the median and p99 and the ratio of the median to the back-to-back
median, then the sum of the floor's steps both ways. On a virtual machine whose idle CPUs halt at
once, a step after a gap costs about twice its back-to-back median, so an order, which pays every
step after a gap, cannot come within 2x of the back-to-back floor whatever the server does.

Usage: .venv/bin/python tests/bench/bench_idle_wake.py [--calls 400] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
import httpx  # noqa: E402
import psycopg2  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from grpc_health.v1._async import HealthServicer  # noqa: E402

from tests.bench.bench_place_order import insert_commit_step, sign_step, start_sim  # noqa: E402
from tests.pgserver import postgres_admin_url, scratch_database  # noqa: E402

GAPS_MS = (0, 2, 5, 10)


def measure(step: Callable[[], object], calls: int, gap_ms: float) -> tuple[float, float]:
    """(median, p99) of `step` in ms, each call after `gap_ms` of idle."""
    samples = []
    for _ in range(calls):
        if gap_ms:
            time.sleep(gap_ms / 1000)
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def echo_server() -> int:
    """A grpc.aio server with the health service, on its own thread and event loop; its port."""
    port: list[int] = []
    ready = threading.Event()

    async def serve() -> None:
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(HealthServicer(), server)
        port.append(server.add_insecure_port("127.0.0.1:0"))
        await server.start()
        ready.set()
        await server.wait_for_termination()

    threading.Thread(target=lambda: asyncio.run(serve()), daemon=True).start()
    ready.wait(10)
    return port[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sim, sim_url = start_sim()  # in a process of its own, as in bench_place_order.py
    try:
        run(args.calls, args.rounds, sim_url)
    finally:
        sim.terminate()
        sim.wait(10)
        if sim.stdout is not None:
            sim.stdout.close()
    return 0


def run(calls: int, rounds: int, sim_url: str) -> None:
    with postgres_admin_url() as admin, scratch_database(admin, "bench_idle_wake") as db_url:
        conn = psycopg2.connect(db_url)
        insert_commit, sign = insert_commit_step(conn), sign_step()
        http = httpx.Client(base_url=sim_url)
        health = health_pb2_grpc.HealthStub(grpc.insecure_channel(f"127.0.0.1:{echo_server()}"))
        steps: dict[str, Callable[[], object]] = {
            "insert_commit": insert_commit,
            "http": lambda: http.get("/ok"),
            "grpc_echo": lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=5),
        }
        for step in steps.values():
            measure(step, 50, 0)  # warm-up: connections
        sign_ms = measure(sign, 2000, 0)[0]
        for round_ in range(1, rounds + 1):
            print(f"round {round_} of {rounds}: median / p99 ms, and the median's ratio to back to back")
            print(f"{'step':14} " + " ".join(f"{f'gap {g} ms':>20}" for g in GAPS_MS))
            floors = dict.fromkeys(GAPS_MS, sign_ms)
            for name, step in steps.items():
                cells = []
                base = 0.0
                for gap in GAPS_MS:
                    p50, p99 = measure(step, calls, gap)
                    base = base or p50
                    floors[gap] += (2 if name == "insert_commit" else 1) * p50
                    cells.append(f"{p50:6.2f} / {p99:6.2f} {p50 / base:4.2f}x")
                print(f"{name:14} " + " ".join(f"{c:>20}" for c in cells))
            print(
                f"{'floor (sum)':14} "
                + " ".join(f"{f'{floors[g]:6.2f} {floors[g] / floors[0]:4.2f}x':>20}" for g in GAPS_MS)
                + f"   (signing {sign_ms:.3f} ms, back to back, in every column)"
            )
            print()
        http.close()
        conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
