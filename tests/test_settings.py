from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest

from server.errors import ConfigurationError
from server.settings import Settings, workers_of

KEY = "0x" + "4c" * 32
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
TOKEN = "admintoken-0123456789abcdef"


def test_defaults_leave_the_database_unset_for_up_to_start_its_own():
    s = Settings.from_env({})
    assert s.database_url == ""
    assert s.chain_id == 137
    assert s.private_key is None


def test_the_worker_count_is_the_option_else_the_variable_else_the_commands_default():
    # serve: 1 and up: 2 are the documented defaults (README, --help).
    unset = Settings.from_env({})
    assert (workers_of("serve", unset, None), workers_of("up", unset, None)) == (1, 2)
    four = Settings.from_env({"HEDGING_WORKERS": "4"})
    assert (workers_of("serve", four, None), workers_of("up", four, None)) == (4, 4)
    assert (workers_of("serve", four, 3), workers_of("up", unset, 1)) == (3, 1)


def test_a_full_environment_is_read():
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://app:pw@db.internal:5433/hedging",
            "POLYMARKET_CLOB_URL": "https://clob.polymarket.com/",
            "POLYMARKET_CHAIN_ID": "80002",
            "POLYMARKET_PRIVATE_KEY": KEY,
            "POLYMARKET_API_KEY": "k",
            "POLYMARKET_API_SECRET": SECRET,
            "POLYMARKET_API_PASSPHRASE": "p",
            "HEDGING_ADMIN_TOKENS": f"alice:admin:{TOKEN},board:viewer:{TOKEN}x",
            "HEDGING_VENUE_TIMEOUT_SECONDS": "2.5",
        }
    )
    assert s.polymarket_url == "https://clob.polymarket.com"
    assert s.chain_id == 80002
    assert s.private_key is not None and s.private_key.reveal() == KEY
    assert [(t.name, t.role) for t in s.admin_tokens] == [("alice", "admin"), ("board", "viewer")]
    assert s.venue_timeout == Decimal("2.5")
    for shown in (repr(s), str(s), repr(s.admin_tokens), repr(s.venue_credentials)):
        assert KEY not in shown and SECRET not in shown and TOKEN not in shown


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://root@localhost/x", "DATABASE_URL must be a PostgreSQL URL"),
        ("DATABASE_URL", "file:///hedging.db", "DATABASE_URL must be a PostgreSQL URL"),
        ("DATABASE_URL", "postgresql://u:hunter2-password@/db", "DATABASE_URL"),
        ("DATABASE_URL", "postgresql://h:99999999/db", "DATABASE_URL"),
        ("POLYMARKET_CHAIN_ID", "80001", "POLYMARKET_CHAIN_ID"),
        ("POLYMARKET_PRIVATE_KEY", "0x" + "zz" * 32, "POLYMARKET_PRIVATE_KEY"),
        ("POLYMARKET_PRIVATE_KEY", KEY[:-2], "POLYMARKET_PRIVATE_KEY"),
        ("POLYMARKET_CLOB_URL", "clob.polymarket.com", "POLYMARKET_CLOB_URL"),
        ("POLYMARKET_API_SECRET", SECRET, "POLYMARKET_API_KEY"),
        ("HEDGING_GRPC_LISTEN", "localhost", "HEDGING_GRPC_LISTEN"),
        ("HEDGING_ADMIN_TOKENS", f"alice:root:{TOKEN}", "HEDGING_ADMIN_TOKENS"),
        ("HEDGING_ADMIN_TOKENS", "alice:admin:short", "HEDGING_ADMIN_TOKENS"),
        ("HEDGING_VENUE_TIMEOUT_SECONDS", "NaN", "HEDGING_VENUE_TIMEOUT_SECONDS"),
        ("POLYMARKET_SIGNATURE_TYPE", "3", "POLYMARKET_SIGNATURE_TYPE"),
        # A pattern ending in `$` also matches before a final newline.
        ("POLYMARKET_PRIVATE_KEY", KEY + "\n", "POLYMARKET_PRIVATE_KEY"),
        ("POLYMARKET_FUNDER", "0x" + "ab" * 20 + "\n", "POLYMARKET_FUNDER"),
        ("HEDGING_ADMIN_TOKENS", f"alice\n:admin:{TOKEN}", "HEDGING_ADMIN_TOKENS"),
        # str.isdigit() is true of digits other than 0-9: "²" made int() raise, "١٣٧" read as 137.
        ("POLYMARKET_CHAIN_ID", "²", "POLYMARKET_CHAIN_ID"),
        ("POLYMARKET_CHAIN_ID", "١٣٧", "POLYMARKET_CHAIN_ID"),
        ("POLYMARKET_SIGNATURE_TYPE", "²", "POLYMARKET_SIGNATURE_TYPE"),
        ("HEDGING_GRPC_LISTEN", "127.0.0.1:²", "HEDGING_GRPC_LISTEN"),
        ("HEDGING_WORKERS", "0", "HEDGING_WORKERS"),
        ("HEDGING_WORKERS", "65", "HEDGING_WORKERS"),
        ("HEDGING_WORKERS", "²", "HEDGING_WORKERS"),
    ],
)
def test_a_malformed_setting_fails_naming_the_variable_and_not_the_secret(variable, value, expected):
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({variable: value})
    message = str(caught.value)
    assert message.startswith(expected)
    for secret in ("hunter2-password", KEY[:-2], SECRET, "short", TOKEN, "zz" * 32):
        assert secret not in message


def test_the_command_stops_at_start_with_the_message_and_without_the_secret():
    bad_key = "0x" + "ab" * 31 + "zz"
    env = {
        **os.environ,
        "POLYMARKET_PRIVATE_KEY": bad_key,
        "DATABASE_URL": "postgresql://u@127.0.0.1:1/unused",
    }
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "POLYMARKET_PRIVATE_KEY" in done.stderr
    assert bad_key not in done.stderr + done.stdout


@pytest.mark.parametrize("url", ["file:///var/lib/hedging.db", "mysql://root:hunter2-password@db/hedging"])
def test_an_unsupported_database_url_stops_every_command_with_one_line(url):
    env = {**os.environ, "DATABASE_URL": url}
    for command in ("serve", "migrate", "up"):
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", command], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, done.stderr
        scheme = url.split(":")[0]
        assert done.stderr == (
            "hedging: configuration error: DATABASE_URL must be a PostgreSQL URL "
            f"(postgresql://user@host:5432/dbname), not {scheme}:\n"
        )
        assert "hunter2" not in done.stderr + done.stdout


def test_commands_other_than_up_need_a_database_url():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr == (
        "hedging: configuration error: DATABASE_URL is not set: `hedging up` runs PostgreSQL of its own, "
        "`hedging migrate` needs postgresql://user@host:5432/dbname\n"
    )
