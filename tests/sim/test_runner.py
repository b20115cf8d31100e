"""The simulator as other code starts it: the fixture API, the markets file, and ``python -m server.sim``."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx

from server.sim.markets import VALID_TICK_SIZES, load_markets
from server.sim.runner import start_simulator

ROOT = Path(__file__).resolve().parents[2]


def test_markets_file_is_varied_and_venue_shaped() -> None:
    markets = load_markets()
    assert len(markets) >= 5
    assert {m.tick_size for m in markets} >= {Decimal("0.01"), Decimal("0.001")}
    assert {m.neg_risk for m in markets} == {True, False}
    assert {m.fee_rate > 0 for m in markets} == {True, False}
    for m in markets:
        assert re.fullmatch(r"0x[0-9a-f]{64}", m.condition_id)
        assert m.yes_token_id.isdigit() and len(m.yes_token_id) > 70 and m.no_token_id.isdigit()
        assert m.tick_size in VALID_TICK_SIZES and m.min_order_size > 0
        assert m.question and m.slug and isinstance(m.fee_exponent, Decimal)
    depths = sorted(sum(s for _, s in m.seed_book.bids) for m in markets)
    assert depths[0] < 200 < depths[-1]  # thin and deep books


def test_start_simulator_binds_port_zero_and_stops() -> None:
    with start_simulator(port=0, default_collateral=Decimal(0), seed=3) as sim:
        assert sim.port > 0 and sim.url == f"http://127.0.0.1:{sim.port}"
        assert httpx.get(sim.url + "/version").json() == {"version": 2}
        assert sim.exchange.default_collateral == 0
    try:
        httpx.get(sim.url + "/ok", timeout=1)
    except httpx.ConnectError:
        pass
    else:
        raise AssertionError("simulator still serving after stop()")


def test_module_entry_point_prints_where_it_listens() -> None:
    command = [sys.executable, "-m", "server.sim", "--port", "0", "--log-level", "WARNING"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            assert match, line
            assert httpx.get(match.group(1) + "/ok").json() == "OK"
        finally:
            proc.terminate()
        assert proc.wait(timeout=10) == 0  # SIGTERM is a clean shutdown
