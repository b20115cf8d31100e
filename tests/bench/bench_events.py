"""Event delivery latency of StreamHedgeEvents: N subscribers, events written at a steady rate.

Not a pytest test. Run from the repository root:

    .venv/bin/python tests/bench/bench_events.py --subscribers 100 --rate 500 --seconds 10

What runs: a fresh PostgreSQL database (as the test suite finds or starts one), the simulator in this
process (the server needs a venue to start), `--servers` `hedging serve` subprocesses, and
`--client-procs` client processes sharing the subscribers round-robin over the servers (grpc.aio, one
channel per server per client process), each subscribed `from_now`. Writers append events through
`server.store.events.append` (the same advisory-locked, NOTIFYing path as the order transactions), two
events per transaction, paced to `--rate` events per second over `--writers` threads.

Latency of one delivery = the subscriber's receive time minus the event's `created_at` (stamped just
before its transaction commits), so it includes commit, NOTIFY, the feed's read, fan-out, gRPC and the
client. Reported: deliveries (expected = events x subscribers), p50, p90, p99, max.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "generated"))

import psycopg2  # noqa: E402

from server.store import events as event_log  # noqa: E402
from server.store.db import bind, open_database  # noqa: E402
from server.store.events import NewEvent  # noqa: E402
from server.store.migrate import migrate  # noqa: E402
from tests.pgserver import database_url, postgres_admin_url  # noqa: E402


def client_process(
    ports: list[int], count: int, offset: int, ready: object, stop: object, out: object
) -> None:
    import grpc

    from hedging.v1 import hedging_service_pb2 as pb
    from hedging.v1 import hedging_service_pb2_grpc

    async def main() -> list[float]:
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{p}") for p in ports]
        stubs = [hedging_service_pb2_grpc.HedgingServiceStub(c) for c in channels]
        latencies: list[float] = []
        connected = 0

        async def subscriber(i: int) -> None:
            nonlocal connected
            call = stubs[(offset + i) % len(stubs)].StreamHedgeEvents(
                pb.StreamHedgeEventsRequest(from_now=True, heartbeat_seconds=1)
            )
            first = True
            async for item in call:
                now = time.time()
                if first:
                    first = False
                    connected += 1
                    if connected == count:
                        ready.set()  # type: ignore[attr-defined]
                if item.WhichOneof("item") == "event":
                    created = item.event.created_at
                    latencies.append(now - (created.seconds + created.nanos / 1e9))

        tasks = [asyncio.create_task(subscriber(i)) for i in range(count)]
        # A multiprocessing event cannot be awaited: wait for it on a thread.
        await asyncio.to_thread(stop.wait)  # type: ignore[attr-defined]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for c in channels:
            await c.close()
        return latencies

    out.put(asyncio.run(main()))  # type: ignore[attr-defined]


def writer(url: str, rate_per_thread: float, seconds: float, per_tx: int, written: list[int]) -> None:
    database = open_database(url)
    database.connect()
    # Delivery is measured here, not durability: do not wait for the WAL flush on each commit.
    database.execute_sql("SET synchronous_commit = off")
    interval = per_tx / rate_per_thread
    start = time.perf_counter()
    n = 0
    while True:
        due = start + n * interval
        now = time.perf_counter()
        if due - start >= seconds:
            break
        if due > now:
            time.sleep(due - now)
        with database.atomic():
            event_log.append(
                database,
                [
                    NewEvent("hedge_submitted", "bench", "bench-event", "YES", data={"n": n})
                    for _ in range(per_tx)
                ],
            )
        n += 1
    written.append(n * per_tx)
    database.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rate", type=float, default=500.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--client-procs", type=int, default=4)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--per-tx", type=int, default=2, help="events per transaction")
    args = parser.parse_args()

    from server.sim.runner import start_simulator
    from tests.harness import ServerProcess, server_env

    with postgres_admin_url() as admin_url:
        name = f"hedging_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg2.connect(admin_url)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        url = database_url(admin_url, name)
        servers: list[ServerProcess] = []
        try:
            migrate(bind(open_database(url)))
            with start_simulator(port=0) as sim:
                env = {**server_env(url, sim.url), "HEDGING_METRICS_LISTEN": "127.0.0.1:0"}
                servers = [ServerProcess(env) for _ in range(args.servers)]
                ports = [s.port for s in servers]
                ctx = multiprocessing.get_context("spawn")
                stop = ctx.Event()
                out = ctx.Queue()
                readies = []
                procs = []
                per_proc = [args.subscribers // args.client_procs] * args.client_procs
                for i in range(args.subscribers % args.client_procs):
                    per_proc[i] += 1
                offset = 0
                for count in per_proc:
                    ready = ctx.Event()
                    p = ctx.Process(target=client_process, args=(ports, count, offset, ready, stop, out))
                    p.start()
                    procs.append(p)
                    readies.append(ready)
                    offset += count
                for ready in readies:
                    if not ready.wait(60):
                        raise RuntimeError("subscribers did not connect")
                written: list[int] = []
                threads = [
                    threading.Thread(
                        target=writer,
                        args=(url, args.rate / args.writers, args.seconds, args.per_tx, written),
                    )
                    for _ in range(args.writers)
                ]
                began = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                took = time.perf_counter() - began
                time.sleep(2.0)  # let the last deliveries arrive before the clients stop
                stop.set()
                latencies: list[float] = []
                for _ in procs:
                    latencies.extend(out.get(timeout=120))
                for p in procs:
                    p.join(30)
        finally:
            for s in servers:
                s.stop()
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

    events = sum(written)
    print(
        f"bench_events: {args.subscribers} subscribers on {args.servers} server process(es), "
        f"{events} events in {took:.1f}s ({events / took:.0f} events/s), {os.cpu_count()} CPUs"
    )
    print(f"  deliveries: {len(latencies)} of {events * args.subscribers} expected")
    if latencies:
        ms = [v * 1000 for v in latencies]
        print(
            f"  latency ms: p50 {percentile(ms, 0.50):.1f}  p90 {percentile(ms, 0.90):.1f}  "
            f"p99 {percentile(ms, 0.99):.1f}  max {max(ms):.1f}  mean {statistics.fmean(ms):.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
