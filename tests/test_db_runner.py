"""The database threads: results and errors reach the caller; a cancelled caller's work is skipped if
not yet started and finished if started (a transaction is never cut short); closing lets handed-over
work finish; a write waiting for its market's group commit holds no thread."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, TypeVar

import peewee
import psycopg2
import pytest

from server.domain.exposure import Position
from server.errors import Unavailable
from server.runtime import DatabaseRunner
from server.store.db import open_database
from server.store.group_commit import GroupCommit, Planned, Queued, Work
from server.store.hints import PositionHints
from tests.harness import wait_until

T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """Runs `scenario` on an event loop of its own, made and closed on a thread of its own."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, scenario()).result(30)  # type: ignore[arg-type]


@pytest.fixture
def database(pg_url: str) -> Iterator[peewee.Database]:
    db = open_database(pg_url)
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


def _group() -> tuple[PositionHints, list[str], GroupCommit[str]]:
    """A group commit on market 1 whose writes each add a share; the log shows what it committed."""
    hints = PositionHints()
    hints.remember(1, Position(), Decimal(0))
    log: list[str] = []
    return hints, log, GroupCommit(hints, lambda writes: log.append(" ".join(writes)))


def _share(name: str, alone: Callable[[], Any] | None = None) -> Queued[str]:
    def plan(position: Position | None, total: Decimal | None) -> Planned[str] | None:
        if position is None or total is None:
            return None
        return Planned(name, Position(user_shares=position.user_shares + 1), total + 1, name)

    return Queued(1, Work(plan, alone or (lambda: f"{name} alone")))


def test_writes_waiting_for_their_market_hold_no_thread(database: peewee.Database) -> None:
    runner = DatabaseRunner(database, 2)
    hints, log, group = _group()
    market = hints.lock(1)

    async def scenario() -> tuple[list[Any], str]:
        await asyncio.to_thread(market.acquire)  # another writer holds the market
        writes = [asyncio.create_task(runner.join(group, _share(n))) for n in "abcdefghij"]
        await asyncio.to_thread(wait_until, lambda: group.waiting(1) == 10, message="ten queued writes")
        # Ten writes wait, but only the one draining the market holds a thread: the other is free.
        free = await runner(lambda: "served")
        market.release()
        return await asyncio.gather(*writes), free

    try:
        answers, free = run(scenario)
    finally:
        runner.close()
    assert free == "served"
    assert answers == list("abcdefghij")
    assert log == ["a b c d e f g h i j"]


def test_a_write_cancelled_before_its_group_is_dropped(database: peewee.Database) -> None:
    runner = DatabaseRunner(database, 1)
    hints, log, group = _group()
    market = hints.lock(1)

    async def scenario() -> list[Any]:
        await asyncio.to_thread(market.acquire)
        writes = [asyncio.create_task(runner.join(group, _share(n))) for n in "abc"]
        await asyncio.to_thread(wait_until, lambda: group.waiting(1) == 3, message="three queued writes")
        writes[1].cancel()
        market.release()
        return await asyncio.gather(*writes, return_exceptions=True)

    try:
        a, b, c = run(scenario)
    finally:
        runner.close()
    assert (a, c) == ("a", "c")
    assert isinstance(b, asyncio.CancelledError)
    assert log == ["a c"]


def test_a_lost_connection_in_a_group_reaches_its_writers_as_unavailable(database: peewee.Database) -> None:
    runner = DatabaseRunner(database, 1)
    hints = PositionHints()
    hints.remember(1, Position(), Decimal(0))

    def commit(writes: list[str]) -> None:
        raise peewee.OperationalError("server closed the connection")

    group: GroupCommit[str] = GroupCommit(hints, commit)

    async def scenario() -> str:
        with pytest.raises(Unavailable, match="database unavailable"):
            await runner.join(group, _share("a"))
        return await runner(lambda: "still serving")

    try:
        assert run(scenario) == "still serving"
    finally:
        runner.close()


def test_a_group_whose_database_cannot_be_reached_fails_its_writes_and_does_not_stall() -> None:
    port = _closed_port()
    unreachable = open_database(f"postgresql://postgres@127.0.0.1:{port}/nowhere")
    runner = DatabaseRunner(unreachable, 1)
    hints = PositionHints()
    hints.remember(1, Position(), Decimal(0))
    group: GroupCommit[str] = GroupCommit(hints, lambda writes: unreachable.execute_sql("SELECT 1"))

    async def scenario() -> None:
        # The group fails; the market is free again after it, and the next write, run alone (the
        # failure dropped the hint), fails too.
        for _ in range(2):
            with pytest.raises(Unavailable, match="database unavailable"):
                await runner.join(group, _share("a", alone=lambda: unreachable.execute_sql("SELECT 1")))

    try:
        run(scenario)
    finally:
        runner.close()
    assert group.waiting(1) == 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_next_work(pg_url: str) -> None:
    """After a database restart every thread holds a connection the server has closed: the first
    work on each must run on a new one, not fail (a restart must not cost a request per thread)."""
    database = open_database(pg_url)
    runner = DatabaseRunner(database, 1)

    def backend() -> int:
        return int(database.execute_sql("SELECT pg_backend_pid()").fetchone()[0])

    async def scenario() -> tuple[int, int]:
        before = await runner(backend)
        other = psycopg2.connect(pg_url)
        try:
            with other.cursor() as cur:  # waits until the backend is gone
                cur.execute("SELECT pg_terminate_backend(%s, 10000)", (before,))
        finally:
            other.close()
        after = await runner(backend)
        await runner(database.close)
        return before, after

    try:
        before, after = run(scenario)
    finally:
        runner.close()
    assert after != before
