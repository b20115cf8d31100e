"""Which process's rebalancer works which netted market: a session-level PostgreSQL advisory lock per
market, held on a connection of its own for as long as the process lives. When the process dies its
connection closes (at once for a killed process; through short TCP keepalives for a lost host) and the
locks go with it, so another process takes the markets over within seconds.

The lock only keeps the work in one place: two owners at once (a connection lost while its process
still posts) cannot hedge a gap twice, since each decision is taken under the market's row lock with
every hedge in flight counted (`server.store.book_hedges`)."""

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
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 2}


class MarketLocks:
    """The markets this process owns. Blocking: call from a thread (`held` and `release_all` do)."""

    def __init__(self, database_url: str, lock_class: int = LOCK_CLASS) -> None:
        self._url = database_url
        self._class = lock_class
        self._conn: Any = None
        self.owned: set[int] = set()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="market-locks")

    def take(self, wanted: Iterable[int]) -> tuple[set[int], set[int]]:
        """Tries to own every market in `wanted` not owned yet; returns (owned now, newly taken). A lost
        connection loses every lock: nothing is owned until a new one takes them again."""
        try:
            conn = self._connection()
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
                new: set[int] = set()
                for mapping_id in sorted(set(wanted) - self.owned):
                    cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", (self._class, mapping_id))
                    if cursor.fetchone()[0]:
                        new.add(mapping_id)
            self.owned |= new
            return set(self.owned), new
        except psycopg2.Error as exc:
            log.warning("rebalancer market locks lost (%s); retaking them", type(exc).__name__)
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
                self._url, application_name=f"hedging-rebalancer-{os.getpid()}", **KEEPALIVES
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
