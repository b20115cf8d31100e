"""Rate-limits repeated log lines: a database outage of a few seconds must not write thousands.

The first record of a kind passes; identical ones (same logger, level and message template) within
the interval are counted, not written; the first one after the interval passes with a note of how
many were held back. Different messages are never held back by each other."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

_Key = tuple[str, int, str, str]
_MAX_KINDS = 1024  # forget the oldest kinds beyond this, so odd messages cannot grow it without end


class RepeatFilter(logging.Filter):
    """A handler filter letting one record of each kind through per `interval` seconds, then the
    next with "(… repeated N times)" appended."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._kinds: dict[_Key, list[float | int]] = {}  # kind -> [window start, records held back]

    def filter(self, record: logging.LogRecord) -> bool:
        # The formatted text is the kind: a flood repeats one text, while lines about different
        # hedges differ in their ids and all pass.
        exc = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        key = (record.name, record.levelno, record.getMessage(), exc)
        now = self._clock()
        with self._lock:
            seen = self._kinds.get(key)
            if seen is not None and now - seen[0] < self._interval:
                seen[1] += 1
                return False
            held = int(seen[1]) if seen is not None else 0
            self._kinds.pop(key, None)
            self._kinds[key] = [now, 0]
            if len(self._kinds) > _MAX_KINDS:
                del self._kinds[next(iter(self._kinds))]
        if held:
            record.msg = (
                f"{record.getMessage()} (… repeated {held} more times in the last {self._interval:g}s)"
            )
            record.args = None
        return True
