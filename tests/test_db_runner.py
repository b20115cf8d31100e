"""The database threads: results and errors reach the caller; a cancelled caller's work is skipped if
not yet started and finished if started (a transaction is never cut short); closing lets handed-over
work finish."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import peewee
import pytest

from server.errors import Unavailable
from server.runtime import DatabaseRunner
from server.store.db import open_database
from tests.harness import wait_until

T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """Runs `scenario` on an event loop of its own, made and closed on a thread of its own."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, scenario()).result(30)  # type: ignore[arg-type]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[peewee.Database]:
    db = open_database(f"sqlite:///{tmp_path / 'runner.db'}")
    yield db
    db.close()


def test_results_and_errors_reach_the_caller(database: peewee.Database) -> None:
    runner = DatabaseRunner(database, 2)

    async def scenario() -> tuple[Any, Any]:
        value = await runner(lambda: database.execute_sql("SELECT 6 * 7").fetchone()[0])
        with pytest.raises(ValueError, match="bad"):
            await runner(_raise(ValueError("bad")))
        with pytest.raises(Unavailable, match="database unavailable"):
            await runner(_raise(peewee.OperationalError("gone")))
        after = await runner(lambda: "still serving")
        return value, after

    try:
        value, after = run(scenario)
    finally:
        runner.close()
    assert (value, after) == (42, "still serving")


def test_a_cancelled_callers_work_is_skipped_if_queued_and_finished_if_running(
    database: peewee.Database,
) -> None:
    runner = DatabaseRunner(database, 1)
    release = threading.Event()
    started, ran = threading.Event(), []

    def blocking() -> str:
        started.set()
        release.wait(10)
        ran.append("running one")
        return "done"

    async def scenario() -> list[str]:
        running = asyncio.create_task(runner(blocking))
        queued = asyncio.create_task(runner(lambda: ran.append("queued one")))
        await asyncio.to_thread(started.wait, 10)
        running.cancel()
        queued.cancel()
        release.set()
        for task in (running, queued):
            with pytest.raises(asyncio.CancelledError):
                await task
        await runner(lambda: ran.append("later one"))
        return ran

    try:
        assert run(scenario) == ["running one", "later one"]
    finally:
        runner.close()


def test_closing_lets_handed_over_work_finish_and_refuses_more(database: peewee.Database) -> None:
    runner = DatabaseRunner(database, 1)
    release = threading.Event()
    done: list[int] = []

    async def scenario() -> None:
        first = asyncio.create_task(runner(lambda: (release.wait(10), done.append(1))))
        second = asyncio.create_task(runner(lambda: done.append(2)))
        await asyncio.sleep(0)  # both handed over
        closing = asyncio.create_task(asyncio.to_thread(runner.close))
        await asyncio.to_thread(wait_until, lambda: runner._closed, message="close to begin")
        with pytest.raises(RuntimeError, match="closed"):
            await runner(lambda: done.append(3))
        release.set()
        await asyncio.gather(first, second, closing)

    run(scenario)
    assert done == [1, 2]


def _raise(exc: BaseException) -> Callable[[], Any]:
    def work() -> Any:
        raise exc

    return work
