"""Benchmark: py-clob-client-v2 ``create_order`` vs ``OrderSigner.build_limit_order``.

Not a pytest test. Run from the repository root:

    .venv/bin/python tests/bench/bench_signing.py [-n 3000] [--seed 1] [--client-backend native]

Both sides get the same random limit orders (random token ids, all six tick sizes, sizes with 2 to
6 decimals) and are timed interleaved, one order each in turn, in the same process. The client's
tick size, neg-risk flag and version are pre-set (options + its caches), so it does no HTTP; its
salt and timestamp generation are inside its timed call, and ``new_salt()`` plus reading the clock
are inside ours. ``--client-backend native`` makes eth-keys sign in pure Python (the client's
path when coincurve is not installed) instead of through coincurve.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
TICKS = ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001")


def _orders(n: int, seed: int) -> list[tuple[str, str, Decimal, Decimal, str, bool]]:
    rng = random.Random(seed)
    orders = []
    for _ in range(n):
        tick = rng.choice(TICKS)
        steps = int(1 / Decimal(tick))
        price = Decimal(tick) * rng.randint(1, steps - 1)
        places = rng.choice((2, 2, 2, 3, 4, 6))
        size = Decimal(rng.randint(10**places, 10 ** (places + 4))).scaleb(-places)  # 1 to 10_000 shares
        orders.append(
            (str(rng.getrandbits(256)), tick, price, size, rng.choice(("BUY", "SELL")), rng.random() < 0.5)
        )
    return orders


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=3000, help="orders per side (default 3000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--client-backend", choices=("default", "native"), default="default")
    args = parser.parse_args()
    if args.client_backend == "native":
        os.environ["ECC_BACKEND_CLASS"] = "eth_keys.backends.native.NativeECCBackend"

    # Imported after the backend choice: eth-keys reads it when first used.
    import coincurve
    from eth_keys.backends import get_backend
    from py_clob_client_v2.client import ClobClient
    from py_clob_client_v2.clob_types import OrderArgs, PartialCreateOrderOptions

    from server.venue.order_signing import OrderSigner, new_salt

    orders = _orders(args.n + args.warmup, args.seed)
    client = ClobClient("http://venue.invalid", 137, key=KEY)

    def no_http(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the benchmark client must not do HTTP")

    client._get = no_http
    client._ClobClient__cached_version = 2
    client_inputs = []
    for token_id, tick, price, size, side, neg_risk in orders:
        client._ClobClient__tick_sizes[token_id] = tick
        client_inputs.append(
            (
                OrderArgs(token_id=token_id, price=float(price), size=float(size), side=side),
                PartialCreateOrderOptions(tick_size=tick, neg_risk=neg_risk),
            )
        )
    signer = OrderSigner(KEY, 137)
    our_inputs = [(t, p, s, side, Decimal(tick), nr) for t, tick, p, s, side, nr in orders]

    clock = time.perf_counter_ns

    def time_client(i: int) -> float:
        start = clock()
        client.create_order(*client_inputs[i])
        return (clock() - start) / 1000

    def time_ours(i: int) -> float:
        start = clock()
        signer.build_limit_order(*our_inputs[i], salt=new_salt(), timestamp_ms=time.time_ns() // 1_000_000)  # type: ignore[arg-type]
        return (clock() - start) / 1000

    results: dict[str, tuple[list[float], list[float]]] = {}
    for i in range(args.warmup):
        time_client(i)
        time_ours(i)
    measured = range(args.warmup, len(orders))
    # Blocked: alternating runs of 100 orders per side, so each side runs with warm caches and
    # drift of the machine hits both alike.
    gc.collect()
    client_us: list[float] = []
    ours_us: list[float] = []
    for block in range(args.warmup, len(orders), 100):
        indices = range(block, min(block + 100, len(orders)))
        client_us += [time_client(i) for i in indices]
        ours_us += [time_ours(i) for i in indices]
    results["blocked (warm caches)"] = (client_us, ours_us)
    # Interleaved: one order each in turn, as inside a service where other work runs between two
    # orders: each call starts with caches the other side has churned.
    gc.collect()
    client_us, ours_us = [], []
    for i in measured:
        client_us.append(time_client(i))
        ours_us.append(time_ours(i))
    results["interleaved (cold caches)"] = (client_us, ours_us)
    # The floor: one libsecp256k1 signature (what both sides pay), nothing else.
    key = coincurve.PrivateKey(bytes.fromhex(KEY[2:]))
    digests = [random.Random(i).randbytes(32) for i in range(len(measured))]
    sign_us = []
    for digest in digests:
        start = clock()
        key.sign_recoverable(digest, hasher=None)
        sign_us.append((clock() - start) / 1000)

    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("py-clob-client-v2", "eth-account", "eth-keys", "coincurve", "pycryptodome")
    )
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(versions)
    print(f"client eth-keys backend: {type(get_backend()).__name__}")
    print(f"seed {args.seed}, {args.warmup} warm-up orders per side")
    for mode, (client_us, ours_us) in results.items():
        client_median, ours_median = statistics.median(client_us), statistics.median(ours_us)
        print(f"\n{mode}: {len(client_us)} limit orders per side")
        print(f"  {'':30}{'median µs':>12}{'p99 µs':>12}")
        print(f"  {'client create_order':30}{client_median:12.1f}{_percentile(client_us, 0.99):12.1f}")
        print(f"  {'OrderSigner.build_limit_order':30}{ours_median:12.1f}{_percentile(ours_us, 0.99):12.1f}")
        print(f"  ratio of medians: {client_median / ours_median:.1f}x")
    sign_median = statistics.median(sign_us)
    print(f"\nfloor: one coincurve sign_recoverable, median {sign_median:.1f} µs; client median / that")
    print(
        f"  = {statistics.median(results['blocked (warm caches)'][0]) / sign_median:.1f}x bounds any signer using libsecp256k1"
    )


if __name__ == "__main__":
    main()
