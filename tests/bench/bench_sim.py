"""How many ``POST /order`` per second the CLOB V2 simulator sustains with full verification.

Not a pytest test. Run from the repository root:

    .venv/bin/python tests/bench/bench_sim.py --threads 4 --orders 8000

The simulator runs as its own process (``python -m server.sim --port 0``), exactly as the CLI starts it,
so its CPU use can be read from ``/proc``. Orders are signed up front (EIP-712 digest + libsecp256k1, the
same bytes py-clob-client-v2 produces) for several accounts; each client thread owns its own httpx client
(the official client's module-level one is not thread-safe) and computes the L2 HMAC headers per request.
The simulator verifies every HMAC and recovers every order signer. The default mix is 80 % resting GTC
bids and 20 % FAK buys that trade against the liquidity provider.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import coincurve
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.sim.signing import (  # noqa: E402
    OrderFields,
    clob_auth_digest,
    exchange_domain_separator,
    keccak,
    order_struct_hash,
    typed_digest,
)

CHAIN_ID = 137
ZERO32 = "0x" + "00" * 32


@dataclass
class Account:
    key: coincurve.PrivateKey
    address: str  # checksum-insensitive 0x hex
    api_key: str = ""
    secret: str = ""
    passphrase: str = ""


def _sign(key: coincurve.PrivateKey, digest: bytes) -> str:
    sig = key.sign_recoverable(digest, hasher=None)
    return "0x" + (sig[:64] + bytes([sig[64] + 27])).hex()


def _account(seed: int) -> Account:
    key = coincurve.PrivateKey(keccak(f"bench-account-{seed}".encode()))
    address = "0x" + keccak(key.public_key.format(compressed=False)[1:])[-20:].hex()
    return Account(key=key, address=address)


def _l2_headers(acct: Account, method: str, path: str, body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(
        base64.urlsafe_b64decode(acct.secret), (ts + method + path + body).encode(), hashlib.sha256
    )
    return {
        "POLY_ADDRESS": acct.address,
        "POLY_SIGNATURE": base64.urlsafe_b64encode(digest.digest()).decode(),
        "POLY_TIMESTAMP": ts,
        "POLY_API_KEY": acct.api_key,
        "POLY_PASSPHRASE": acct.passphrase,
        "Content-Type": "application/json",
    }


def _create_key(http: httpx.Client, acct: Account) -> None:
    ts = str(int(time.time()))
    signature = _sign(acct.key, clob_auth_digest(acct.address, ts, 0, CHAIN_ID))
    headers = {
        "POLY_ADDRESS": acct.address,
        "POLY_SIGNATURE": signature,
        "POLY_TIMESTAMP": ts,
        "POLY_NONCE": "0",
    }
    creds = http.post("/auth/api-key", headers=headers).raise_for_status().json()
    acct.api_key, acct.secret, acct.passphrase = creds["apiKey"], creds["secret"], creds["passphrase"]


def _signed_order_body(
    acct: Account, token_id: str, neg_risk: bool, rng: random.Random, marketable: bool
) -> str:
    if marketable:
        # FAK buy of $5 at up to 0.70: trades against the provider's asks.
        maker_amount, taker_amount, order_type = 5_000_000, 7_142_800, "FAK"
    else:
        price = Decimal(rng.randint(30, 58)) / 100
        size = Decimal(rng.randint(5, 50))
        maker_amount, taker_amount, order_type = int(size * price * 1_000_000), int(size * 1_000_000), "GTC"
    fields = OrderFields(
        salt=rng.randrange(1, 1 << 40),
        maker=acct.address,
        signer=acct.address,
        token_id=int(token_id),
        maker_amount=maker_amount,
        taker_amount=taker_amount,
        side=0,
        signature_type=0,
        timestamp=int(time.time() * 1000),
        metadata=ZERO32,
        builder=ZERO32,
    )
    digest = typed_digest(exchange_domain_separator(CHAIN_ID, neg_risk), order_struct_hash(fields))
    order = {
        "salt": fields.salt,
        "maker": acct.address,
        "signer": acct.address,
        "tokenId": token_id,
        "makerAmount": str(maker_amount),
        "takerAmount": str(taker_amount),
        "side": "BUY",
        "expiration": "0",
        "signatureType": 0,
        "timestamp": str(fields.timestamp),
        "metadata": ZERO32,
        "builder": ZERO32,
        "signature": _sign(acct.key, digest),
    }
    payload = {
        "order": order,
        "owner": acct.api_key,
        "orderType": order_type,
        "deferExec": False,
        "postOnly": False,
    }
    return json.dumps(payload, separators=(",", ":"))


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _start_simulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.sim", "--port", "0", "--log-level", "WARNING"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"simulator did not start: {line!r}")
    return proc, line.strip().rsplit(" ", 1)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--orders", type=int, default=8000, help="measured posts in total")
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--marketable", type=float, default=0.2, help="share of FAK orders that trade")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--url", help="use a running simulator (e.g. under a profiler) instead of starting one"
    )
    parser.add_argument("--pid", type=int, help="with --url: the simulator's pid, for the CPU figure")
    args = parser.parse_args(argv)

    proc: subprocess.Popen[str] | None = None
    if args.url:
        url, pid = args.url, args.pid or 0
    else:
        proc, url = _start_simulator()
        pid = proc.pid
    try:
        with httpx.Client(base_url=url) as http:
            markets = {m["market_slug"]: m for m in http.get("/markets").json()["data"]}
            market = markets["fed-cut-december-2026"]
            token_id, neg_risk = market["tokens"][0]["token_id"], bool(market["neg_risk"])
            accounts = [_account(i) for i in range(args.threads)]
            for acct in accounts:
                _create_key(http, acct)

        rng = random.Random(args.seed)
        per_thread = (args.orders + args.warmup) // args.threads
        sign_started = time.perf_counter()
        bodies = [
            [
                _signed_order_body(acct, token_id, neg_risk, rng, rng.random() < args.marketable)
                for _ in range(per_thread)
            ]
            for acct in accounts
        ]
        sign_seconds = time.perf_counter() - sign_started
        warm_each = args.warmup // args.threads

        latencies: list[list[float]] = [[] for _ in accounts]
        failures = [0] * len(accounts)
        barrier = threading.Barrier(len(accounts) + 1)

        def worker(i: int) -> None:
            acct = accounts[i]
            with httpx.Client(base_url=url, timeout=10) as client:
                for n, body in enumerate(bodies[i]):
                    if n == warm_each:
                        barrier.wait()
                    started = time.perf_counter()
                    response = client.post(
                        "/order", content=body.encode(), headers=_l2_headers(acct, "POST", "/order", body)
                    )
                    elapsed = time.perf_counter() - started
                    if n >= warm_each:
                        latencies[i].append(elapsed)
                        if response.status_code != 200:
                            failures[i] += 1
                barrier.wait()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(accounts))]
        for t in threads:
            t.start()
        barrier.wait()
        cpu0, wall0 = _cpu_seconds(pid) if pid else 0.0, time.perf_counter()
        barrier.wait()
        wall = time.perf_counter() - wall0
        cpu = _cpu_seconds(pid) - cpu0 if pid else float("nan")
        for t in threads:
            t.join()

        with httpx.Client(base_url=url) as http:
            totals = http.get("/_sim/totals").json()
            trades = len(http.get("/_sim/trades").json())
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)

    samples = sorted(x for per in latencies for x in per)
    posts = len(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"simulator: {url} ({'separate process' if proc else 'external'}, h11, single event loop)")
    print(
        f"pre-signed {posts + args.warmup} orders in {sign_seconds:.2f} s; {args.threads} client threads, own httpx each"
    )
    print(f"posts measured: {posts} in {wall:.2f} s, non-200: {sum(failures)}, trades created: {trades}")
    print(f"throughput: {posts / wall:,.0f} posts/s")
    print(f"latency: median {statistics.median(samples) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")
    print(
        f"simulator CPU: {cpu:.2f} s over {wall:.2f} s wall = {cpu / wall:.0%} of one core ({os.cpu_count()} cores)"
    )
    print(f"fees collected: {totals['fees']} USDC")
    return 0 if not sum(failures) else 1


if __name__ == "__main__":
    sys.exit(main())
