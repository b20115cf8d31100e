"""How a group of one market's writes is run: in arrival order, each planned on the position the one
before leaves, committed together; a failure reaches exactly the writes it concerns."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import peewee
import pytest

from server.domain.exposure import Position
from server.store.group_commit import GroupCommit, GroupCounts, Planned, Work
from server.store.hints import PositionHints
from server.store.sql import GuardFailed
from tests.harness import wait_until

MARKET = 1


class Recorder:
    """A commit function and a log of what ran, in order."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.log: list[str] = []
        self.fail = fail

    def commit(self, writes: list[str]) -> None:
        self.log.append("commit " + " ".join(writes))
        if self.fail is not None:
            raise self.fail


def _work(name: str, log: list[str], *, plannable: bool = True, error: Exception | None = None) -> Work[str]:
    """Work that adds one share to the position it is planned on."""

    def plan(position: Position | None, total: Decimal | None) -> Planned[str] | None:
        log.append(f"plan {name} on {position.user_shares if position else None}")
        if error is not None:
            raise error
        if not plannable or position is None:
            return None
        after = Position(user_shares=position.user_shares + 1)
        return Planned(name, after, (total or Decimal(0)) + 1, f"{name} planned")

    def alone() -> str:
        log.append(f"alone {name}")
        return f"{name} alone"

    return Work(plan, alone)


def _run_together(group: GroupCommit[str], hints: PositionHints, works: list[Work[str]]) -> list[Future[Any]]:
    """Queues all `works` behind the market's lock, then lets them go as one group."""
    pool = ThreadPoolExecutor(len(works))
    with hints.lock(MARKET):
        futures = []
        for n, work in enumerate(works):
            futures.append(pool.submit(group.run, MARKET, work))
            wait_until(lambda n=n: group.waiting(MARKET) == n + 1, message="the write to queue")
    pool.shutdown(wait=True)
    return futures


def _setup(fail: Exception | None = None) -> tuple[PositionHints, Recorder, GroupCommit[str]]:
    hints = PositionHints()
    hints.remember(MARKET, Position(), Decimal(0))
    recorder = Recorder(fail)
    return hints, recorder, GroupCommit(hints, recorder.commit)


def test_a_group_is_planned_in_order_and_committed_once() -> None:
    hints, recorder, group = _setup()
    futures = _run_together(group, hints, [_work(n, recorder.log) for n in "abc"])

    assert [f.result() for f in futures] == ["a planned", "b planned", "c planned"]
    assert recorder.log == ["plan a on 0", "plan b on 1", "plan c on 2", "commit a b c"]
    assert hints.position(MARKET) == Position(user_shares=Decimal(3))
    assert hints.total() == 3
    assert group.counts() == GroupCounts(commits=1, grouped_writes=3)


def test_a_failed_plan_reaches_only_its_own_writer() -> None:
    hints, recorder, group = _setup()
    works = [
        _work("a", recorder.log),
        _work("b", recorder.log, error=ValueError("b")),
        _work("c", recorder.log),
    ]
    a, b, c = _run_together(group, hints, works)

    assert (a.result(), c.result()) == ("a planned", "c planned")
    with pytest.raises(ValueError, match="b"):
        b.result()
    assert recorder.log[-1] == "commit a c"
    assert hints.position(MARKET) == Position(user_shares=Decimal(2))


def test_work_that_cannot_be_planned_runs_alone_in_its_place() -> None:
    hints, recorder, group = _setup()
    works = [_work("a", recorder.log), _work("b", recorder.log, plannable=False), _work("c", recorder.log)]
    futures = _run_together(group, hints, works)

    assert [f.result() for f in futures] == ["a planned", "b alone", "c planned"]
    # `b` (which remembered nothing) left the hint as `a`'s group committed it.
    assert recorder.log == ["plan a on 0", "plan b on 1", "commit a", "alone b", "plan c on 1", "commit c"]
    assert group.counts() == GroupCounts(commits=2, grouped_writes=2, alone_writes=1)


@pytest.mark.parametrize(
    ("failure", "stale"),
    [(GuardFailed("stale"), True), (peewee.IntegrityError("duplicate request id"), False)],
)
def test_a_group_that_fails_a_guard_or_a_key_runs_again_one_by_one(failure: Exception, stale: bool) -> None:
    hints, recorder, group = _setup(fail=failure)
    futures = _run_together(group, hints, [_work(n, recorder.log) for n in "ab"])

    assert [f.result() for f in futures] == ["a alone", "b alone"]
    assert recorder.log[-3:] == ["commit a b", "alone a", "alone b"]
    # A stale hint is dropped (the market is read under lock for a while); after a replay the hint
    # is still what was committed.
    assert hints.position(MARKET) == (None if stale else Position())
    assert group.counts() == GroupCounts(alone_writes=2, stale_groups=int(stale))


def test_any_other_failure_of_the_commit_reaches_every_writer_of_the_group() -> None:
    hints, recorder, group = _setup(fail=peewee.OperationalError("connection lost"))
    futures = _run_together(group, hints, [_work(n, recorder.log) for n in "ab"])

    for future in futures:
        with pytest.raises(peewee.OperationalError, match="connection lost"):
            future.result()
    assert not any(line.startswith("alone") for line in recorder.log)  # an unknown outcome: no retry here
    assert hints.position(MARKET) is None


def test_an_offer_waits_without_a_thread_while_its_market_is_drained() -> None:
    hints, recorder, group = _setup()
    settled: list[tuple[Any, BaseException | None]] = []

    def settle(answer: Any, error: BaseException | None) -> None:
        settled.append((answer, error))

    offered: list[bool] = []

    def commit_and_meanwhile_offer(writes: list[str]) -> None:
        recorder.commit(writes)
        if writes == ["a"]:  # `b` arrives while `a` commits: queued, and nobody else must drain it
            offered.append(group.offer(MARKET, _work("b", recorder.log), settle))

    group = GroupCommit(hints, commit_and_meanwhile_offer)
    assert group.offer(MARKET, _work("a", recorder.log), settle) is True  # the caller drains
    group.drain(MARKET)

    assert offered == [False]
    assert settled == [("a planned", None), ("b planned", None)]
    assert recorder.log == ["plan a on 0", "commit a", "plan b on 1", "commit b"]
    # Drained: the next offer finds the market idle again.
    assert group.offer(MARKET, _work("c", recorder.log), settle) is True
    group.drain(MARKET)
    assert settled[-1] == ("c planned", None)


def test_work_abandoned_before_its_group_is_planned_is_dropped() -> None:
    _, recorder, group = _setup()
    settled: list[Any] = []
    assert group.offer(MARKET, _work("a", recorder.log), lambda a, e: settled.append(a)) is True
    group.offer(MARKET, _work("b", recorder.log), lambda a, e: settled.append(a), lambda: True)
    group.offer(MARKET, _work("c", recorder.log), lambda a, e: settled.append(a))
    group.drain(MARKET)

    assert settled == ["a planned", "c planned"]
    assert recorder.log == ["plan a on 0", "plan c on 1", "commit a c"]
