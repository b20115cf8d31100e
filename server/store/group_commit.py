"""Group commit: the order and hedge-result writes of one market that arrive together are committed
in one transaction, in one round trip.

Every writer of a market's position holds this process's lock of the market (`PositionHints.lock`).
A writer that arrives while another holds it queues its work here and waits for the lock. Whoever
takes the lock next (flat combining) takes everything queued and runs it in arrival order:

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


class _Slot:
    __slots__ = ("answer", "done", "error", "work")

    def __init__(self, work: Work[Any]) -> None:
        self.work = work
        self.done = False
        self.answer: Any = None
        self.error: BaseException | None = None

    def settle(self, answer: Any = None, error: BaseException | None = None) -> None:
        self.answer, self.error, self.done = answer, error, True

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
        self._tally = dict.fromkeys(GroupCounts.__dataclass_fields__, 0)

    def run(self, mapping_id: int, work: Work[W]) -> Any:
        """Runs `work` on the market, grouped with whatever else is waiting for it; returns its answer
        or raises its error."""
        slot = _Slot(work)
        with self._guard:
            self._queues.setdefault(mapping_id, []).append(slot)
        with self._hints.lock(mapping_id):
            if not slot.done:
                with self._guard:
                    batch, self._queues[mapping_id] = self._queues[mapping_id], []
                self._drain(mapping_id, batch)
        if slot.error is not None:
            raise slot.error
        return slot.answer

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
