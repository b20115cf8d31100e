"""Fixtures: a simulator on port 0, the store mapped to its markets, and `hedging doctor` as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
from eth_account import Account

from server.sim.runner import RunningSimulator

# The gateway's fixtures: a simulator on port 0, and the store mapped to its markets.
from tests.gateway.conftest import mappings, sim  # noqa: F401
from tests.harness import HEDGER_KEY

HEDGER_ADDRESS = Account.from_key(HEDGER_KEY).address


def control(simulator: RunningSimulator, path: str, body: dict[str, Any]) -> Any:
    response = httpx.post(f"{simulator.url}/_sim/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def venue_env(pg_url: str, simulator: RunningSimulator, **overrides: str) -> dict[str, str]:
    return {
        "DATABASE_URL": pg_url,
        "POLYMARKET_CLOB_URL": simulator.url,
        "POLYMARKET_GEOBLOCK_URL": simulator.url + "/api/geoblock",
        "POLYMARKET_PRIVATE_KEY": HEDGER_KEY,
        "HEDGING_VENUE_TIMEOUT_SECONDS": "2",
        **overrides,
    }


def hedging(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`hedging ARGS` with only `env` of our variables (none inherited from the caller)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HEDGING_", "POLYMARKET_"))}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def finding(result: subprocess.CompletedProcess[str], check: str) -> str:
    """The report line of `check` (its status, name and advice)."""
    lines = [line for line in result.stdout.splitlines() if line[6:].startswith(check + " ")]
    assert len(lines) == 1, result.stdout + result.stderr
    return lines[0]
