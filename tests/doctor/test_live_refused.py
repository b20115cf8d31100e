"""`live` is refused while a doctor check fails: setConfig(mode: live) through the gateway, and the
start of `hedging serve` over a store whose mode is live. The gateway also reports the checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from server.sim.runner import RunningSimulator
from server.store import config as config_store
from tests.doctor.conftest import control, hedging, venue_env
from tests.gateway.conftest import ADMIN_TOKEN, VIEWER_TOKEN, Client, GatewayThread, gateway_settings
from tests.harness import set_config

SET_MODE = """mutation($value: String!) {
  setConfig(input: {key: "mode", value: $value, reason: "go"}) {
    __typename
    ... on SetConfigSuccess { entry { value } }
    ... on FailedPreconditionError { message }
  }
}"""
DOCTOR = "{ doctor { worst checks { check status advice } } }"


@pytest.fixture
def gateway(pg_db: Any, pg_url: str, sim: RunningSimulator, mappings: Any) -> Iterator[GatewayThread]:
    running = GatewayThread(gateway_settings(pg_url, sim.url, geoblock_url=sim.url + "/api/geoblock"))
    try:
        yield running
    finally:
        running.stop()


def test_set_config_refuses_live_while_a_check_fails_and_says_which(gateway, pg_db, sim):
    admin = Client(gateway.url, ADMIN_TOKEN)
    control(sim, "geoblock", {"blocked": True, "country": "US", "region": "NY"})
    control(sim, "time", {"offset": -60})
    refused = admin(SET_MODE, value="live")["setConfig"]
    assert refused["__typename"] == "FailedPreconditionError"
    assert refused["message"].startswith(
        "live refused while `hedging doctor` fails: clock: this host's clock"
    )
    assert "; geoblock: Polymarket blocks trading from this host's region (US/NY)" in refused["message"]
    assert config_store.current_values(pg_db).get("mode") is None  # nothing stored

    # Other modes are not held back.
    assert admin(SET_MODE, value="paper")["setConfig"]["entry"] == {"value": "paper"}

    control(sim, "geoblock", {"blocked": False})
    control(sim, "time", {"offset": 0})
    assert admin(SET_MODE, value="live")["setConfig"]["entry"] == {"value": "live"}
    admin.close()


def test_viewers_read_the_doctors_report(gateway, sim):
    viewer = Client(gateway.url, VIEWER_TOKEN)
    control(sim, "allowance", {"address": "0x" + "00" * 20, "usdc": "0"})  # someone else's wallet
    fit = viewer(DOCTOR)["doctor"]
    assert fit["worst"] == "PASS", fit
    control(sim, "geoblock", {"blocked": True, "country": "US", "region": "NY"})
    report = viewer(DOCTOR)["doctor"]
    assert report["worst"] == "FAIL"
    assert [c["status"] for c in report["checks"] if c["check"] == "geoblock"] == ["FAIL"]
    viewer.close()


def test_serve_will_not_start_live_while_a_check_fails(pg_db, pg_url, sim, mappings):
    set_config(pg_db, mode="live")
    control(sim, "geoblock", {"blocked": True, "country": "US", "region": "NY"})
    env = venue_env(pg_url, sim, HEDGING_GRPC_LISTEN="127.0.0.1:0", HEDGING_METRICS_LISTEN="127.0.0.1:0")
    result = hedging("serve", env=env)
    assert result.returncode == 7, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("hedging: mode is live but `hedging doctor` fails: geoblock: Polymarket blocks")
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stdout
