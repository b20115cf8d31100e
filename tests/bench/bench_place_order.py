"""PlaceOrder benchmark: latency at 1 and 32 concurrent callers and sustained orders/s, in paper and
live mode, against PostgreSQL and the CLOB simulator, with the time split by phase and, measured in the
same run, the floor: two INSERT+COMMIT round trips + one signing + one HTTP round trip to the simulator
+ one gRPC echo. The floor is measured two ways: each step's median back to back (`floor`, warm: the
database, the simulator and the server answer a stream of the same request), and the five steps one
after another in an order's sequence (`in_sequence`), where each server wakes from the idle the others
leave it, as it does for an order. On these machines the second is the larger, since a PostgreSQL
backend that sat idle for a few milliseconds answers the same commit about twice as slowly. Each round
also reports what 32 callers sustain with gRPC health checks on the same server: the transport's own
ceiling, against which the orders/s figures can be read.

Usage: .venv/bin/python tests/bench/bench_place_order.py [--orders-1 300] [--orders-32 3000]
       [--modes paper,live] [--rounds 1] [--followers 0] [--workers 1,2]

With `--workers 1,2` each count runs as `hedging serve --workers N` in a subprocess instead (in the
order given on odd rounds, reversed on even ones), its callers spread over 8 connections; the floor is
measured against each server, and there is no phase split.

With `--followers N` the server also has N event-stream subscribers for the whole run: a server with
none reads no events (`server/events/feed.py`), one with a subscriber reads every order's.

The server runs in this process (its phase timings are read directly); the simulator and the load
generator run in their own processes so they do not share the server's interpreter lock.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
import httpx  # noqa: E402
import psycopg2  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

from server.sim.markets import load_markets  # noqa: E402
from server.store.db import bind, open_database  # noqa: E402
from server.store.migrate import migrate  # noqa: E402
from server.venue.order_signing import OrderSigner, new_salt  # noqa: E402
from tests.bench.phases import instrument  # noqa: E402
from tests.harness import HEDGER_KEY, ServerProcess, ServiceThread, server_env, service_settings, set_config  # noqa: E402
from tests.pgserver import postgres_admin_url, scratch_database  # noqa: E402

MARKETS = ["fed-cut-december-2026", "btc-above-150k-dec-31-2026", "gpt-release-q1-2027"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f}"


# --- load generator (child process) -------------------------------------------------------------------
def _load(target: str, callers: int, orders: int, queue: multiprocessing.Queue, connections: int = 1) -> None:  # type: ignore[type-arg]
    """`callers` concurrent callers over `connections` connections (the kernel spreads connections,
    not calls, over the workers of `--workers N`)."""
    from hedging.v1 import hedging_service_pb2 as pb
    from hedging.v1 import hedging_service_pb2_grpc, types_pb2

    async def run() -> tuple[list[float], float, int]:
        latencies: list[float] = []
        failures = 0
        remaining = [orders]
        options = [("grpc.use_local_subchannel_pool", 1)]
        channels = [grpc.aio.insecure_channel(target, options=options) for _ in range(connections)]
        stubs = [hedging_service_pb2_grpc.HedgingServiceStub(c) for c in channels]
        try:

            async def caller(n: int) -> None:
                stub = stubs[n % len(stubs)]
                nonlocal failures
                while remaining[0] > 0:
                    remaining[0] -= 1
                    request = pb.PlaceOrderRequest(
                        request_id=uuid.uuid4().hex,
                        account_id=f"bench-{n}",
                        market=types_pb2.MarketRef(
                            event_id=MARKETS[remaining[0] % len(MARKETS)], outcome="YES"
                        ),
                        side=types_pb2.SIDE_BUY,
                        size="10",
                    )
                    start = time.perf_counter()
                    answer = await stub.PlaceOrder(request, timeout=30)
                    latencies.append(time.perf_counter() - start)
                    if answer.status != types_pb2.ORDER_STATUS_ACCEPTED:
                        failures += 1

            began = time.perf_counter()
            await asyncio.gather(*(caller(i) for i in range(callers)))
            return latencies, time.perf_counter() - began, failures
        finally:
            for channel in channels:
                await channel.close()

    queue.put(asyncio.run(run()))


def _echo_load(target: str, callers: int, calls: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The same callers sending gRPC health checks instead: what the transport alone sustains."""

    async def run() -> tuple[list[float], float, int]:
        latencies: list[float] = []
        remaining = [calls]
        async with grpc.aio.insecure_channel(target) as channel:
            health = health_pb2_grpc.HealthStub(channel)

            async def caller() -> None:
                while remaining[0] > 0:
                    remaining[0] -= 1
                    start = time.perf_counter()
                    await health.Check(health_pb2.HealthCheckRequest(), timeout=30)
                    latencies.append(time.perf_counter() - start)

            began = time.perf_counter()
            await asyncio.gather(*(caller() for _ in range(callers)))
            return latencies, time.perf_counter() - began, 0

    queue.put(asyncio.run(run()))


def run_load(
    target: str, callers: int, orders: int, load: Callable[..., None] = _load, *extra: object
) -> tuple[list[float], float, int]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=load, args=(target, callers, orders, queue, *extra))
    child.start()
    result = queue.get(timeout=600)
    child.join(30)
    return result  # type: ignore[no-any-return]


# --- CPU shares -------------------------------------------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid`, all threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine so far, all cores."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


def postgres_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes (server and backends alive now)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() not in ("postgres", "postmaster"):
                    continue
            total += process_cpu(int(entry))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def thread_cpu(native_id: int) -> float:
    """CPU seconds (user + system) used so far by one thread of this process."""
    with open(f"/proc/self/task/{native_id}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


class CpuShares:
    """Who used the machine's CPU during a run: the server (this process), the simulator, PostgreSQL,
    and the rest (the load generator and anything else), as percentages of all cores' time; and the
    server's event-loop thread, as a percentage of one core over the run's wall time. The loop serves
    every request: when orders/s stop rising while it runs well under a whole core, it is waiting,
    mostly for the interpreter lock held by the database threads, not working."""

    def __init__(self, sim_pid: int, loop_thread: int) -> None:
        self._sim_pid = sim_pid
        self._loop_thread = loop_thread
        self._wall = time.monotonic()
        self._start = (
            process_cpu(os.getpid()), process_cpu(sim_pid), postgres_cpu(), thread_cpu(loop_thread),
            *machine_cpu(),
        )  # fmt: skip

    def shares(self) -> str:
        now = (
            process_cpu(os.getpid()), process_cpu(self._sim_pid), postgres_cpu(), thread_cpu(self._loop_thread),
            *machine_cpu(),
        )  # fmt: skip
        server, sim, pg, loop, busy = (a - b for a, b in zip(now[:5], self._start[:5], strict=True))
        elapsed = now[5] - self._start[5]
        wall = time.monotonic() - self._wall
        if elapsed <= 0 or wall <= 0:
            return ""
        return (
            f"cpu% server {100 * server / elapsed:3.0f} sim {100 * sim / elapsed:3.0f} "
            f"pg {100 * pg / elapsed:3.0f} rest {100 * (busy - server - sim - pg) / elapsed:3.0f} "
            f"idle {100 * (1 - busy / elapsed):3.0f} | loop thread {100 * loop / wall:3.0f}% of a core"
        )


# --- the floor ------------------------------------------------------------------------------------------
def median_of(action: Callable[[], object], n: int = 400) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def insert_commit_step(conn: Any) -> Callable[[], None]:
    """The floor's database step: one INSERT and COMMIT on `conn` (its table made here)."""
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS floor_probe (id bigserial PRIMARY KEY, v text)")
    conn.commit()

    def insert_commit() -> None:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO floor_probe (v) VALUES ('x')")
        conn.commit()

    return insert_commit


def sign_step() -> Callable[[], None]:
    """The floor's signing step: one hedge order signed as the desk signs it."""
    signer = OrderSigner(HEDGER_KEY, 137)
    market = next(m for m in load_markets() if m.slug == MARKETS[0])

    def sign() -> None:
        signer.build_market_order(
            market.yes_token_id,
            Decimal("6.30"),
            "BUY",
            Decimal("0.63"),
            market.tick_size,
            market.neg_risk,
            salt=new_salt(),
            timestamp_ms=time.time_ns() // 1_000_000,
        )

    return sign


def measure_floor(db_url: str, sim_url: str, grpc_port: int) -> dict[str, float]:
    conn = psycopg2.connect(db_url)
    insert_commit, sign = insert_commit_step(conn), sign_step()
    http = httpx.Client(base_url=sim_url)
    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
    health = health_pb2_grpc.HealthStub(channel)
    floor = {
        "insert_commit": median_of(insert_commit),
        "sign": median_of(sign, 2000),
        "http": median_of(lambda: http.get("/ok")),
        "grpc_echo": median_of(lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=5)),
    }
    floor["floor"] = 2 * floor["insert_commit"] + floor["sign"] + floor["http"] + floor["grpc_echo"]

    def in_sequence() -> None:
        """The same five steps one after another, in an order's sequence: each server then wakes
        from the idle the others leave it, as it does for an order, instead of running warm
        back to back."""
        health.Check(health_pb2.HealthCheckRequest(), timeout=5)
        insert_commit()
        sign()
        http.get("/ok")
        insert_commit()

    floor["in_sequence"] = median_of(in_sequence)
    http.close()
    channel.close()
    conn.close()
    return floor


# --- setup ------------------------------------------------------------------------------------------------
def start_sim() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "server.sim", "--port", "0", "--log-level", "WARNING",
         "--default-collateral", "100000000"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if "listening on" in line:
            return process, line.strip().rsplit(" ", 1)[1]
    raise RuntimeError("simulator did not start")


def deepen_books(sim_url: str) -> None:
    """Books deep enough that a run never walks past the top level."""
    with httpx.Client(base_url=sim_url) as http:
        for market in load_markets():
            if market.slug in MARKETS:
                bid, ask = market.seed_book.bids[0][0], market.seed_book.asks[0][0]
                http.post(
                    "/_sim/book",
                    json={"token_id": market.yes_token_id, "bids": [[str(bid), "100000000"]],
                          "asks": [[str(ask), "100000000"]]},
                ).raise_for_status()  # fmt: skip


async def _native_thread_id() -> int:
    """The native id of the thread running the calling event loop."""
    return threading.get_native_id()


_followers: list[asyncio.Task[None]] = []  # the loop holds its tasks only weakly


async def follow_events(service: ServiceThread) -> None:
    """Starts a subscriber of the server's event feed that reads everything and keeps nothing."""
    feed = service.runtime.services.feed  # type: ignore[union-attr]

    async def follow() -> None:
        async for _ in feed.follow(await feed.latest_id(), heartbeat_seconds=60):
            pass

    _followers.append(asyncio.get_running_loop().create_task(follow(), name="bench-follower"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders-1", type=int, default=300)
    parser.add_argument("--orders-32", type=int, default=3000)
    parser.add_argument("--modes", default="paper,live", help="comma-separated: paper, live")
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="repeat everything (floor included) this many times and also print the medians: this "
        "machine's speed drifts by tens of percent between minutes",
    )  # fmt: skip
    parser.add_argument("--db-threads", type=int, default=8, help="the server's database threads")
    parser.add_argument(
        "--followers", type=int, default=0,
        help="event-stream subscribers in the server throughout (a server with none reads no events)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", default="",
        help="comma-separated worker counts, as 1,2: each runs as `hedging serve --workers N` in a "
        "subprocess, alternated round by round, callers spread over 8 connections (no phase split)",
    )  # fmt: skip
    args = parser.parse_args()

    with postgres_admin_url() as admin, scratch_database(admin, "bench_place_order") as db_url:
        sim, sim_url = start_sim()
        service = None
        try:
            deepen_books(sim_url)
            database = bind(open_database(db_url))
            migrate(database)
            from server.sim.runner import RunningSimulator  # noqa: F401 - the seed helper only reads markets
            from server.store import mappings as mapping_store

            for m in load_markets():
                mapping_store.create(
                    database,
                    mapping_store.MappingSpec(
                        m.slug, "YES", m.condition_id, m.yes_token_id, m.no_token_id, m.neg_risk, m.tick_size,
                        m.min_order_size, m.fee_rate, m.fee_exponent, m.question,
                    ),
                    author="bench",
                )  # fmt: skip
            set_config(database, maxMarketExposure="1000000000", maxUnhedgedExposure="1000000000",
                       maxSlippageBps="500")  # fmt: skip
            if args.workers:
                return bench_workers(args, database, db_url, sim_url)
            service = ServiceThread(service_settings(db_url, sim_url, db_threads=args.db_threads))
            target = f"127.0.0.1:{service.port}"
            loop_thread = service.call(_native_thread_id())
            for _ in range(args.followers):
                service.call(follow_events(service))
            recorder = instrument()
            results: dict[tuple[str, int], list[tuple[float, float, float, float]]] = {}
            for round_ in range(1, args.rounds + 1):
                floor = measure_floor(db_url, sim_url, service.port)
                if args.rounds > 1:
                    print(f"\nround {round_} of {args.rounds}")
                print("floor (medians, ms): " + ", ".join(f"{k} {ms(v).strip()}" for k, v in floor.items()))
                echoes, echo_elapsed, _ = run_load(target, 32, 3000, _echo_load)
                print(
                    f"gRPC echo, 32 callers: {len(echoes) / echo_elapsed:.0f}/s, p50 "
                    f"{ms(statistics.median(echoes)).strip()} ms (the transport alone, same server and client)"
                )
                print()
                print(f"{'mode':6} {'callers':>7} {'orders':>6} {'p50 ms':>8} {'p99 ms':>8} {'orders/s':>9} "
                      f"{'p50/floor':>9} {'/in seq':>7} | phase ms: book (mean) db sign venue (medians) rest")  # fmt: skip
                for mode in args.modes.split(","):
                    set_config(database, mode=mode)
                    service.call(service.runtime.state.refresh())
                    run_load(target, 4, 100)  # warm-up: connections, caches
                    for callers, orders in ((1, args.orders_1), (32, args.orders_32)):
                        recorder.reset()
                        cpu = CpuShares(sim.pid, loop_thread)
                        latencies, elapsed, failures = run_load(target, callers, orders)
                        shares = cpu.shares()
                        s = recorder.samples
                        sign = statistics.median(s["sign"]) if s["sign"] else 0.0
                        venue = statistics.median(s["venue_post"]) if s["venue_post"] else 0.0
                        # A book is fetched only when the cached one is too old: its cost per order.
                        book = sum(s["book"]) / len(latencies)
                        # The rest of the desk's time is the database's (booking, recording).
                        db = statistics.median(s["total"]) - sign - venue - book
                        p50, p99 = statistics.median(latencies), pct(latencies, 0.99)
                        rest = p50 - (db + sign + venue + book)
                        # Outside the desk: gRPC, the edge's checks and conversions, the caller's wait.
                        outside = p50 - statistics.median(s["total"])
                        rate = len(latencies) / elapsed
                        results.setdefault((mode, callers), []).append(
                            (p50, p99, rate, p50 / floor["floor"], p50 / floor["in_sequence"])
                        )
                        print(
                            f"{mode:6} {callers:7d} {len(latencies):6d} {ms(p50)} {ms(p99)} "
                            f"{rate:9.0f} {p50 / floor['floor']:9.2f} {p50 / floor['in_sequence']:7.2f} | "
                            f"{ms(book)} {ms(db)} {ms(sign)} {ms(venue)} {ms(rest)} ({ms(outside).strip()} outside the desk)"
                            + f" | {shares}"
                            + (f"  ({failures} not accepted)" if failures else "")
                        )
            if args.rounds > 1:
                print(f"\nmedians over {args.rounds} rounds (each ratio against its own round's floor)")
                print(
                    f"{'mode':6} {'callers':>7} {'p50 ms':>8} {'p99 ms':>8} {'orders/s':>9} {'p50/floor':>9} "
                    f"{'/in seq':>7}  orders/s range"
                )
                for (mode, callers), rows in results.items():
                    p50, p99, rate, ratio, in_seq = (
                        statistics.median(column) for column in zip(*rows, strict=True)
                    )
                    rates = [r[2] for r in rows]
                    print(
                        f"{mode:6} {callers:7d} {ms(p50)} {ms(p99)} {rate:9.0f} {ratio:9.2f} {in_seq:7.2f}  "
                        f"{min(rates):.0f}-{max(rates):.0f}"
                    )
        finally:
            if service is not None:
                service.stop()
            sim.terminate()
            sim.wait(10)
            if sim.stdout is not None:
                sim.stdout.close()
    return 0


def _refusals(database: Any) -> str:
    """Why orders were refused so far, and the breakers tripped now (then reset for the next run)."""
    from server.risk import manual

    reasons = database.execute_sql(
        "SELECT reject_reason, count(*) FROM user_order WHERE status = 'rejected' GROUP BY 1"
    ).fetchall()
    tripped = [r[0] for r in database.execute_sql("SELECT name FROM circuit_breaker WHERE state <> 'active'")]
    if tripped:
        manual.resume(database, "benchmark: next run", "bench")
    return f"reasons so far {dict(reasons)}, breakers tripped {tripped}"


def bench_workers(args: argparse.Namespace, database: Any, db_url: str, sim_url: str) -> int:
    """`hedging serve --workers N` for each N, alternated: its order reverses every round."""
    counts = [int(n) for n in args.workers.split(",")]
    env = {**server_env(db_url, sim_url), "HEDGING_DB_THREADS": str(args.db_threads)}
    # A venue answer slow beyond the 1 s timeout on a loaded machine makes a hedge UNKNOWN, and enough
    # of them trip a breaker that rejects every later order: measure orders, not breakers.
    set_config(database, failureRateMinHedges="100000", unknownHedgeMaxAgeSeconds="86400",
               venueOutageSeconds="3600")  # fmt: skip
    results: dict[tuple[int, str, int], list[tuple[float, float, float, float]]] = {}
    print(f"{'workers':>7} {'mode':6} {'callers':>7} {'orders':>6} {'p50 ms':>8} {'p99 ms':>8} {'orders/s':>9} "
          f"{'/in seq':>7}")  # fmt: skip
    for round_ in range(1, args.rounds + 1):
        for workers in counts if round_ % 2 else counts[::-1]:
            server = ServerProcess(env, workers=workers)
            try:
                floor = measure_floor(db_url, sim_url, server.port)
                print(
                    f"round {round_}, {workers} worker(s): in-sequence floor {ms(floor['in_sequence']).strip()} ms"
                )
                target = f"127.0.0.1:{server.port}"
                for mode in args.modes.split(","):
                    set_config(database, mode=mode)
                    time.sleep(1.0)  # every worker reads config every 0.25 s
                    run_load(target, 8, 200, _load, 8)  # warm-up: connections, caches
                    for callers, orders in ((1, args.orders_1), (32, args.orders_32)):
                        latencies, elapsed, failures = run_load(
                            target, callers, orders, _load, min(callers, 8)
                        )
                        p50, p99, rate = (
                            statistics.median(latencies),
                            pct(latencies, 0.99),
                            len(latencies) / elapsed,
                        )
                        in_seq = p50 / floor["in_sequence"]
                        results.setdefault((workers, mode, callers), []).append((p50, p99, rate, in_seq))
                        print(f"{workers:7d} {mode:6} {callers:7d} {len(latencies):6d} {ms(p50)} {ms(p99)} {rate:9.0f} "
                              f"{in_seq:7.2f}" + (f"  ({failures} not accepted: {_refusals(database)})" if failures else ""))  # fmt: skip
            finally:
                server.stop()
    print(f"\nmedians over {args.rounds} round(s)")
    for (workers, mode, callers), rows in sorted(results.items()):
        p50, p99, rate, in_seq = (statistics.median(column) for column in zip(*rows, strict=True))
        print(f"{workers:7d} {mode:6} {callers:7d} {ms(p50)} {ms(p99)} {rate:9.0f} {in_seq:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
