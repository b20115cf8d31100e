"""Which process does a piece of background work: a session-level PostgreSQL advisory lock per piece,
held on a connection of its own for as long as the process lives. When the process dies its
connection closes (at once for a killed process; through short TCP keepalives for a lost host) and the
locks go with it, so another process takes the work over within seconds.

Three lock classes: the rebalancer's, one key per netted market; the settlement follower's, one key
(`SETTLEMENT_KEY`); the capital keeper's, one key (`server.trading.capital`). A lock only keeps the work in one place, it is not what makes the work safe: two
owners at once (a connection lost while its process still works) cannot hedge a gap twice, since each
decision is taken under the market's row lock with every hedge in flight counted
(`server.store.book_hedges`), nor apply a trade twice (`server.store.hedge_trades`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg2

log = logging.getLogger(__name__)
# The advisory lock space of rebalancer ownership ("REB1" in ASCII); the second key is the mapping id.
LOCK_CLASS = 0x52454231
# The settlement follower's ("STL1" in ASCII), with its one key.
SETTLEMENT_CLASS = 0x53544C31
SETTLEMENT_KEY = 0
# The capital keeper's ("CAP1"), with its one key: one process sends redemptions and merges.
CAPITAL_CLASS = 0x43415031
CAPITAL_KEY = 0
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 2}


class AdvisoryLocks:
    """The keys of one lock class this process owns. Blocking: call from `executor`."""

    def __init__(self, database_url: str, lock_class: int = LOCK_CLASS, role: str = "rebalancer") -> None:
        self._url = database_url
        self._class = lock_class
        self._role = role
        self._conn: Any = None
        self.owned: set[int] = set()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="market-locks")

    def take(self, wanted: Iterable[int]) -> tuple[set[int], set[int]]:
        """Tries to own every key in `wanted` not owned yet; returns (owned now, newly taken). A lost
        connection loses every lock: nothing is owned until a new one takes them again."""
        try:
            conn = self._connection()
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
                new: set[int] = set()
                for key in sorted(set(wanted) - self.owned):
                    cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", (self._class, key))
                    if cursor.fetchone()[0]:
                        new.add(key)
            self.owned |= new
            return set(self.owned), new
        except psycopg2.Error as exc:
            log.warning("%s locks lost (%s); retaking them", self._role, type(exc).__name__)
            self._drop()
            return set(), set()

    def close(self) -> None:
        """Releases every lock (closing the connection does)."""
        self._drop()
        self._thread.shutdown(wait=False)

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The one thread this object's connection is used from."""
        return self._thread

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            self.owned = set()
            self._conn = psycopg2.connect(
                self._url, application_name=f"hedging-{self._role}-{os.getpid()}", **KEEPALIVES
            )
            self._conn.autocommit = True
        return self._conn

    def _drop(self) -> None:
        self.owned = set()
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg2.Error:
                pass
            self._conn = None
