"""The background-pass loop that the risk monitor, re-hedger, resolver and state cache share."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from server.periodic import Periodic

log = logging.getLogger("tests.periodic")


def run(scenario: Any) -> Any:
    # On a thread of its own: its event loop is the only one there, created and closed here.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, scenario).result(30)


async def until(condition: Any, progressed: asyncio.Event) -> None:
    """Waits (at most 5 s) for `condition`, re-checking it each time a pass sets `progressed`."""
    async with asyncio.timeout(5):
        while True:
            progressed.clear()
            if condition():
                return
            await progressed.wait()


async def after_passes_of_a_probe(count: int, interval: float) -> None:
    """Returns once another loop with `interval` has run `count` passes: by then a pass that was due
    (or a wrong extra one) of a loop with that interval, started before it, would have shown."""
    passes = [0]
    progressed = asyncio.Event()

    async def work() -> None:
        passes[0] += 1
        progressed.set()

    probe = Periodic("probe", work, interval, failure="-", logger=log, run_first=True)
    probe.start()
    await until(lambda: passes[0] >= count, progressed)
    await probe.stop()


def test_a_failing_pass_is_logged_and_the_next_one_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    passes: list[int] = []

    async def scenario() -> None:
        progressed = asyncio.Event()

        async def work() -> None:
            passes.append(len(passes))
            progressed.set()
            if len(passes) == 1:
                raise RuntimeError("the first pass fails")

        periodic = Periodic("t", work, 0.01, failure="pass failed; retrying", logger=log)
        periodic.start()
        await until(lambda: len(passes) >= 3, progressed)
        await periodic.stop()

    run(scenario())
    assert [r.getMessage() for r in caplog.records if r.name == "tests.periodic"] == ["pass failed; retrying"]


def test_the_first_pass_waits_one_interval_unless_run_first() -> None:
    async def scenario() -> tuple[int, int]:
        counts = {"plain": 0, "first": 0}
        progressed = asyncio.Event()

        def counter(name: str) -> Any:
            async def work() -> None:
                counts[name] += 1
                progressed.set()

            return work

        plain = Periodic("plain", counter("plain"), 60, failure="-", logger=log)
        first = Periodic("first", counter("first"), 60, failure="-", logger=log, run_first=True)
        for p in (plain, first):
            p.start()
        await until(lambda: counts["first"] == 1, progressed)
        await after_passes_of_a_probe(3, 0)  # a wrong extra pass would come at once
        for p in (plain, first):
            await p.stop()
        return counts["plain"], counts["first"]

    assert run(scenario()) == (0, 1)


def test_stop_ends_the_loop() -> None:
    async def scenario() -> tuple[int, int]:
        passes = [0]
        progressed = asyncio.Event()

        async def work() -> None:
            passes[0] += 1
            progressed.set()

        periodic = Periodic("t", work, 0.001, failure="-", logger=log)
        periodic.start()
        await until(lambda: passes[0] >= 2, progressed)
        await periodic.stop()
        stopped_at = passes[0]
        await after_passes_of_a_probe(3, 0.001)  # three intervals: a live loop would have passed again
        return stopped_at, passes[0]

    stopped_at, later = run(scenario())
    assert later == stopped_at
