"""Server-side prepared statements for the hot writes on PostgreSQL.

psycopg2 sends every statement as text, so PostgreSQL parses and plans each one anew: for an order's
batch that was about a quarter of the database's time (`tests/bench/bench_place_order.py`). Here a
statement's text is PREPAREd once per connection, in a round trip of its own the first time that
connection meets it, and from then on sent as `EXECUTE name(values)`: still one simple-protocol
batch, still the driver's own quoting of every value.

A prepared statement lives as long as its session, whatever becomes of the transaction it was made
in, so a connection's record of what it has prepared only grows with PREPAREs that succeeded, and a
new connection starts with none. Only statements that carry values and that PostgreSQL can prepare
(DML and SELECT) are prepared, and at most `limit` distinct texts per process: beyond that a
statement is sent as text, as before. (A pooler that hands one session to several clients, such as
PgBouncer in transaction mode, would need this turned off: nothing here uses one.)"""

from __future__ import annotations

import re
import threading
import weakref
from typing import Any

_PREPARABLE = ("INSERT ", "UPDATE ", "DELETE ", "SELECT ", "WITH ")
_MARK = re.compile(r"%[s%]")


class PreparedStatements:
    def __init__(self, limit: int = 256, prefix: str = "hedging") -> None:
        self._limit = limit
        self._prefix = prefix
        self._guard = threading.Lock()
        self._names: dict[str, str] = {}  # statement text -> its name, the same on every connection
        self._made: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()

    def executable(self, cursor: Any, text: str, values: int) -> str:
        """What to send for a statement with `values` placeholders on `cursor`'s connection: `EXECUTE`
        of its prepared form (preparing it first if this connection has not yet), or `text` itself
        when it is not to be prepared. Call it from the thread that owns the connection."""
        if values == 0 or not text.startswith(_PREPARABLE):
            return text
        with self._guard:
            name = self._names.get(text)
            if name is None:
                if len(self._names) >= self._limit:
                    return text
                name = self._names[text] = f"{self._prefix}_{len(self._names) + 1}"
            made = self._made.setdefault(cursor.connection, set())
        if name not in made:
            cursor.execute(f"PREPARE {name} AS {numbered(text)}")
            made.add(name)
        return f"EXECUTE {name}({', '.join(['%s'] * values)})"


def numbered(text: str) -> str:
    """`text` with psycopg2's `%s` placeholders as PostgreSQL's `$1`, `$2`, ... (and `%%` as `%`)."""
    count = 0

    def mark(found: re.Match[str]) -> str:
        nonlocal count
        if found.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _MARK.sub(mark, text)


statements = PreparedStatements()
