"""`hedging doctor` against the simulator: each failing condition gives its one-line advice and the
exit status of the worst finding (0 pass, 6 warn, 7 fail); `--json` carries the same report."""

from __future__ import annotations

import json
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from server.sim.runner import RunningSimulator
from tests.doctor.conftest import HEDGER_ADDRESS, control, finding, hedging, venue_env
from tests.pgserver import scratch_database


def test_a_fit_setup_passes_every_check_with_status_0(pg_url, sim, mappings):
    result = hedging("doctor", env=venue_env(pg_url, sim))
    assert result.returncode == 0, result.stdout + result.stderr
    checks = [line.split()[1] for line in result.stdout.splitlines()]
    assert checks == [
        "schema",
        "venue",
        "clock",
        "geoblock",
        "credentials",
        "balance",
        "allowance",
        "neg-risk",
        "mappings",
        "wallet",
    ]
    assert all(line.startswith("PASS") for line in result.stdout.splitlines())
    assert result.stderr == ""


def test_json_gives_the_same_report(pg_url, sim, mappings):
    control(sim, "geoblock", {"blocked": True, "country": "US", "region": "NY"})
    result = hedging("doctor", "--json", env=venue_env(pg_url, sim))
    report = json.loads(result.stdout)
    assert result.returncode == report["exit_status"] == 7
    assert report["worst"] == "FAIL"
    blocked = [c for c in report["checks"] if c["check"] == "geoblock"]
    assert blocked[0]["status"] == "FAIL" and "US/NY" in blocked[0]["advice"]


def _clock_behind(sim: RunningSimulator) -> None:
    control(sim, "time", {"offset": 120})


def _unfunded(sim: RunningSimulator) -> None:
    # The simulator credits a wallet when its API key is first made: nothing, from now on.
    control(sim, "config", {"default_collateral": "0"})


def _no_allowance(sim: RunningSimulator) -> None:
    control(sim, "allowance", {"address": HEDGER_ADDRESS, "usdc": "0"})


def _geoblocked(sim: RunningSimulator) -> None:
    control(sim, "geoblock", {"blocked": True, "country": "US", "region": "NY"})


@pytest.mark.parametrize(
    ("setup", "check", "advice"),
    [
        (_clock_behind, "clock", r"this host's clock is 1(19|20|21) s behind the venue's: sync it with NTP"),
        (_unfunded, "balance", f"wallet {HEDGER_ADDRESS} holds 0 USDC: deposit USDC into it"),
        (
            _no_allowance,
            "allowance",
            r"lets the exchange contract 0xE111180000d2663C0091e4f400237545B87B996B",
        ),
        (_geoblocked, "geoblock", r"Polymarket blocks trading from this host's region \(US/NY\)"),
    ],
    ids=["wrong-clock", "unfunded-wallet", "missing-allowance", "geoblocked"],
)
def test_each_failing_venue_condition_fails_with_its_advice_and_status_7(
    pg_url: str,
    sim: RunningSimulator,
    mappings: Any,
    setup: Callable[[RunningSimulator], None],
    check,
    advice,
):
    setup(sim)
    result = hedging("doctor", env=venue_env(pg_url, sim))
    assert result.returncode == 7, result.stdout + result.stderr
    line = finding(result, check)
    assert line.startswith("FAIL") and re.search(advice, line), line
    failing = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert all(check in f for f in failing), failing  # only the condition set up fails


def test_an_allowance_below_the_limits_is_a_warning_with_status_6(pg_url, sim, mappings):
    # Six markets at the default 5000 USDC each: hedges may spend up to 30000.
    assert len(mappings) == 6
    control(sim, "allowance", {"address": HEDGER_ADDRESS, "usdc": "100"})
    result = hedging("doctor", env=venue_env(pg_url, sim))
    assert result.returncode == 6, result.stdout
    line = finding(result, "allowance")
    assert line.startswith("WARN") and "100 USDC, less than the 30000" in line, line


def test_a_mapping_whose_market_the_venue_does_not_know_fails(pg_db, pg_url, sim, mappings):
    first = next(iter(mappings.values()))
    first.condition_id = "0x" + "ab" * 32
    first.save()
    result = hedging("doctor", env=venue_env(pg_url, sim))
    assert result.returncode == 7
    line = finding(result, f"mapping {first.id} (event {first.event_id} YES)")
    assert line.startswith("FAIL") and "is unknown at the venue: deactivate the mapping" in line


def test_a_mapping_with_a_token_not_of_its_market_fails(pg_db, pg_url, sim, mappings):
    first = next(iter(mappings.values()))
    first.no_token_id = "12345"
    first.save()
    result = hedging("doctor", env=venue_env(pg_url, sim))
    assert result.returncode == 7
    line = finding(result, f"mapping {first.id}")
    assert "token 12345 is not one of the market's tokens" in line


def test_a_mapping_with_a_stale_tick_warns(pg_db, pg_url, sim, mappings):
    first = next(iter(mappings.values()))
    stored = first.tick_size
    first.tick_size = stored / 10
    first.save()
    result = hedging("doctor", env=venue_env(pg_url, sim))
    assert result.returncode == 6
    line = finding(result, f"mapping {first.id}")
    assert line.startswith("WARN") and "updateMapping(refreshFromVenue: true)" in line


@pytest.fixture
def unmigrated_url(pg_admin_url: str) -> Iterator[str]:
    with scratch_database(pg_admin_url, "hedging_doctor") as url:
        yield url


def test_pending_migrations_fail_the_schema_check(unmigrated_url, sim):
    result = hedging("doctor", env=venue_env(unmigrated_url, sim))
    assert result.returncode == 7
    line = finding(result, "schema")
    assert line.startswith("FAIL") and "pending" in line and "run `hedging migrate`" in line


def test_a_dead_venue_url_fails_in_one_line(pg_url, mappings):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{holder.getsockname()[1]}"
    env = {"DATABASE_URL": pg_url, "POLYMARKET_CLOB_URL": dead, "POLYMARKET_PRIVATE_KEY": "0x" + "5e" * 32}
    result = hedging("doctor", env=env)
    assert result.returncode == 7
    line = finding(result, "venue")
    assert (
        line.startswith("FAIL") and f"no answer from {dead}" in line and "check POLYMARKET_CLOB_URL" in line
    )
    assert "Traceback" not in result.stderr


def test_wrong_api_credentials_fail(pg_url, sim, mappings):
    env = venue_env(
        pg_url,
        sim,
        POLYMARKET_API_KEY=str(uuid.uuid4()),
        POLYMARKET_API_SECRET="c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2U=",
        POLYMARKET_API_PASSPHRASE="not-the-passphrase",
    )
    result = hedging("doctor", env=env)
    assert result.returncode == 7
    line = finding(result, "credentials")
    assert line.startswith("FAIL") and "refused the L2 API credentials" in line
    assert "not-the-passphrase" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "advice"),
    [
        ({"POLYMARKET_SIGNATURE_TYPE": "1"}, "signature type 1 (Polymarket proxy) needs POLYMARKET_FUNDER"),
        (
            {"POLYMARKET_FUNDER": "0x" + "12" * 20},
            "signature type 0 (EOA) spends the key's own funds: unset POLYMARKET_FUNDER",
        ),
        (
            {"POLYMARKET_SIGNATURE_TYPE": "2", "POLYMARKET_FUNDER": HEDGER_ADDRESS},
            "POLYMARKET_FUNDER is the key's own address, but signature type 2 (Gnosis safe)",
        ),
    ],
    ids=["proxy-without-funder", "eoa-with-funder", "safe-funded-by-the-key"],
)
def test_a_key_funder_and_signature_type_that_do_not_belong_together_fail(
    pg_url, sim, mappings, overrides, advice
):
    result = hedging("doctor", env=venue_env(pg_url, sim, **overrides))
    assert result.returncode == 7
    line = finding(result, "wallet")
    assert line.startswith("FAIL") and advice in line, line


def test_doctors_help_lists_its_option_variables_and_exit_statuses():
    result = hedging("doctor", "--help", env={"POLYMARKET_PRIVATE_KEY": "0x" + "5e" * 32})
    assert result.returncode == 0, result.stderr
    for expected in (
        "--json",
        "POLYMARKET_CLOB_URL",
        "POLYMARKET_GEOBLOCK_URL",
        "POLYMARKET_PRIVATE_KEY [secret]",
        "POLYMARKET_FUNDER",
        "DATABASE_URL",
        "6 the worst is a warning, 7 a check failed",
    ):
        assert expected in result.stdout, expected
    assert "5e5e5e" not in result.stdout
