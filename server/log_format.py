"""How log records are written: plain text for a terminal, or one JSON object per line
(HEDGING_LOG_FORMAT=json) for a log shipper. Configured once, by the command's entry point."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TextIO

from server.log_throttle import RepeatFilter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REPEAT_INTERVAL = 10.0  # seconds: a 6 s database outage writes each of its messages about once


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time (UTC, ISO 8601), level, logger, message, and
    the traceback as `exc_info` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(
    level: str, log_format: str, *, stream: TextIO | None = None, repeats: RepeatFilter | None = None
) -> logging.Handler:
    """Sends every record at `level` and above to `stream` (stderr) in `log_format` ("text" or
    "json"), with repeats of one message rate-limited (`RepeatFilter`, 10 s); returns the handler."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(repeats or RepeatFilter(REPEAT_INTERVAL))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # One line per venue request is noise at INFO; failures are logged by the service itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler
