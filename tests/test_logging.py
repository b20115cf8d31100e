"""Logging as configured by the entry point: repeated lines are rate-limited with a count of what was
held back, and HEDGING_LOG_FORMAT=json writes one JSON object per line."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from server.log_format import configure_logging
from server.log_throttle import RepeatFilter
from tests.pgserver import scratch_database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def configured() -> Iterator[tuple[io.StringIO, Clock]]:
    """The root logger configured as `hedging` does, writing to a buffer, with a clock the test moves."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream, clock = io.StringIO(), Clock()
    configure_logging("INFO", "text", stream=stream, repeats=RepeatFilter(10.0, clock=clock))
    yield stream, clock
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def test_an_outage_storm_of_one_error_writes_one_line_then_a_count(configured):
    stream, clock = configured
    log = logging.getLogger("server.store.sql")
    # A few seconds of a dead database: the same error for every request, thousands of times.
    for _ in range(1460):
        log.error("database unavailable (OperationalError)")
        clock.now += 0.004  # 1460 records in under 6 s
    assert stream.getvalue().count("\n") == 1
    clock.now += 10
    log.error("database unavailable (OperationalError)")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[1].endswith(
        "database unavailable (OperationalError) (… repeated 1459 more times in the last 10s)"
    )


def test_different_lines_are_never_held_back_by_each_other(configured):
    stream, _clock = configured
    log = logging.getLogger("server.trading.hedger")
    for n in range(50):
        log.warning("hedge h-%d of order o-%d FAILED", n, n)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 50
    assert all(f"hedge h-{n} of order o-{n} FAILED" in line for n, line in enumerate(lines))


def test_tracebacks_of_one_error_count_as_one_kind(configured):
    stream, _clock = configured
    log = logging.getLogger("server.periodic")
    for _ in range(100):
        try:
            raise ConnectionError("server closed the connection")
        except ConnectionError:
            log.exception("a periodic task failed")
    assert stream.getvalue().count("Traceback") == 1


def test_json_format_writes_one_object_per_line_from_the_command(pg_admin_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEDGING_")}
    with scratch_database(pg_admin_url, "hedging_log") as url:
        env.update({"DATABASE_URL": url, "HEDGING_LOG_FORMAT": "json"})
        result = subprocess.run(
            [sys.executable, "-m", "server.cli", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    applied = [e for e in entries if e["message"].startswith("applied migration ")]
    assert applied[0]["message"] == "applied migration 0001_initial"
    assert applied[0]["level"] == "INFO"
    assert applied[0]["logger"] == "server.store.migrate"
    assert applied[0]["time"].endswith("+00:00")


def test_json_format_carries_a_traceback_inside_its_one_line():
    from server.log_format import JsonFormatter

    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed here"
    assert "ValueError: boom" in entry["exc_info"]
