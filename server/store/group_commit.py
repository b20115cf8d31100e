"""Group commit: the order and hedge-result writes of one market that arrive together are committed
in one transaction, in one round trip.

Every writer of a market's position holds this process's lock of the market (`PositionHints.lock`).
Writes offered here queue per market, and one thread at a time drains a market's queue: it takes
the lock and everything queued, runs it in arrival order, and goes on while more has queued
meanwhile. A write that arrives while its market is being drained waits without a thread of its
own (`offer`); `run` is the same for a caller that blocks until its write is done.

- each piece of work is planned on the market's position as the previous piece leaves it, starting
  from the hint; its writes stay guarded in SQL exactly as when it commits alone (the position by
  equality with the one it was planned on, the total by its limit, a hedge by still being open);
- the planned writes of consecutive pieces are committed as one transaction;
- a piece that cannot be planned on a hint (no hint, a rejection, a result for another order's
  state) first lets the group before it commit, then runs on its own, the locked way;
- when the group's commit fails a guard or a unique key, nothing of it is committed and every piece
  runs again on its own, the locked way (which finds replays and reads the stored position under
  lock); a failed guard also drops the hint, which was stale;
- any other error reaches every piece of the group, as it would have reached each one alone: an
  unanswered commit is an unknown outcome, which the callers' retries resolve by request id.

So a group is exactly its pieces' one-round-trip transactions run back to back, made atomic
together. Each waiter gets its own piece's answer (or exception)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

import peewee

from server.domain.exposure import Position
from server.store import sql
from server.store.hints import PositionHints

W = TypeVar("W")
Settle = Callable[[Any, BaseException | None], None]  # (answer, None) or (None, error)


@dataclass(frozen=True)
class Planned(Generic[W]):
    """A piece of work planned on a position: its writes, the position and the total it leaves (the
    total None when not known), and what its caller gets once they commit."""

    writes: W
    position: Position
    total: Decimal | None
    answer: Any


@dataclass(frozen=True)
class GroupCounts:
    """What a process's group commits did so far: groups committed and the writes in them, writes run
    alone (the locked way), and groups rolled back because a guard found the hint stale."""

    commits: int = 0
    grouped_writes: int = 0
    alone_writes: int = 0
    stale_groups: int = 0


@dataclass(frozen=True)
class Work(Generic[W]):
    """`plan` decides on the hinted position and total (None when not known) without touching the
    database, or returns None to run `alone`: the locked way, which commits on its own."""

    plan: Callable[[Position | None, Decimal | None], Planned[W] | None]
    alone: Callable[[], Any]


@dataclass(frozen=True)
class Queued(Generic[W]):
    """A write for the group commit of its market."""

    mapping_id: int
    work: Work[W]


class _Slot:
    __slots__ = ("abandoned", "done", "notify", "work")

    def __init__(self, work: Work[Any], notify: Settle, abandoned: Callable[[], bool]) -> None:
        self.work = work
        self.notify = notify
        self.abandoned = abandoned
        self.done = False

    def settle(self, answer: Any = None, error: BaseException | None = None) -> None:
        self.done = True
        self.notify(answer, error)

    def run_alone(self) -> None:
        try:
            self.settle(self.work.alone())
        except Exception as exc:  # the waiter gets it
            self.settle(error=exc)


class GroupCommit(Generic[W]):
    def __init__(self, hints: PositionHints, commit: Callable[[list[W]], None]) -> None:
        """`commit` writes and commits the given writes as one transaction (or raises with nothing
        committed, or with the outcome unknown)."""
        self._hints = hints
        self._commit = commit
        self._guard = threading.Lock()
        self._queues: dict[int, list[_Slot]] = {}
        self._draining: set[int] = set()
        self._tally = dict.fromkeys(GroupCounts.__dataclass_fields__, 0)

    def run(self, mapping_id: int, work: Work[W]) -> Any:
        """Runs `work` on the market, grouped with whatever else is waiting for it; returns its answer
        or raises its error. Blocks the calling thread until then."""
        settled = threading.Event()
        outcome: list[tuple[Any, BaseException | None]] = []

        def notify(answer: Any, error: BaseException | None) -> None:
            outcome.append((answer, error))
            settled.set()

        if self.offer(mapping_id, work, notify):
            self.drain(mapping_id)
        settled.wait()
        answer, error = outcome[0]
        if error is not None:
            raise error
        return answer

    def offer(
        self,
        mapping_id: int,
        work: Work[W],
        settle: Settle,
        abandoned: Callable[[], bool] = lambda: False,
    ) -> bool:
        """Queues `work` for the market's next group; `settle` gets its answer or error, called from
        the thread that drains it. Returns True when the market is not being drained: the caller
        must then call `drain` (on a thread that may block on the database). Work whose caller is
        `abandoned` before its group is planned is dropped unsettled."""
        with self._guard:
            self._queues.setdefault(mapping_id, []).append(_Slot(work, settle, abandoned))
            if mapping_id in self._draining:
                return False
            self._draining.add(mapping_id)
            return True

    def drain(self, mapping_id: int) -> None:
        """Runs the market's queued writes, group after group, until none is left."""
        while True:
            try:
                with self._hints.lock(mapping_id):
                    with self._guard:
                        batch = self._queues.pop(mapping_id, [])
                        if not batch:
                            self._draining.discard(mapping_id)
                            return
                    self._drain(mapping_id, [s for s in batch if not s.abandoned()])
            except BaseException:
                with self._guard:
                    left = self._queues.pop(mapping_id, [])
                    self._draining.discard(mapping_id)
                error = RuntimeError("the group commit of this write was interrupted")
                for slot in left:
                    slot.settle(error=error)
                raise

    def waiting(self, mapping_id: int) -> int:
        """How many writes of the market are queued for the next group."""
        with self._guard:
            return len(self._queues.get(mapping_id, ()))

    def counts(self) -> GroupCounts:
        with self._guard:
            return GroupCounts(**self._tally)

    def _count(self, **more: int) -> None:
        with self._guard:
            for name, n in more.items():
                self._tally[name] += n

    def _drain(self, mapping_id: int, batch: list[_Slot]) -> None:
        """Runs the batch in order (holding the market's lock)."""
        group: list[tuple[_Slot, Planned[W]]] = []
        try:
            position, total = self._hints.position(mapping_id), self._hints.total()
            for slot in batch:
                try:
                    planned = slot.work.plan(position, total)
                except Exception as exc:
                    slot.settle(error=exc)
                    continue
                if planned is not None:
                    group.append((slot, planned))
                    position, total = planned.position, planned.total
                    continue
                self._flush(mapping_id, group)
                group = []
                self._count(alone_writes=1)
                slot.run_alone()
                position, total = self._hints.position(mapping_id), self._hints.total()
            self._flush(mapping_id, group)
        finally:
            for slot in batch:
                if not slot.done:  # only if this thread itself was interrupted
                    slot.settle(error=RuntimeError("the group commit of this write was interrupted"))

    def _flush(self, mapping_id: int, group: list[tuple[_Slot, Planned[W]]]) -> None:
        if not group:
            return
        try:
            self._commit([planned.writes for _, planned in group])
        except (sql.GuardFailed, peewee.IntegrityError) as exc:
            # A stale hint, or a replay (a request id already booked) somewhere in the group: each
            # piece again, on its own. Only a failed guard says the hint is stale; after a replay it
            # still is what was committed.
            if isinstance(exc, sql.GuardFailed):
                self._hints.forget(mapping_id)
            self._count(alone_writes=len(group), stale_groups=int(isinstance(exc, sql.GuardFailed)))
            for slot, _ in group:
                slot.run_alone()
            return
        except Exception as exc:
            self._hints.forget(mapping_id)
            for slot, _ in group:
                slot.settle(error=exc)
            return
        self._count(commits=1, grouped_writes=len(group))
        last = group[-1][1]
        self._hints.remember(mapping_id, last.position, last.total)
        for slot, planned in group:
            slot.settle(planned.answer)
