"""Whether the database answers and every migration of this version has been applied."""

from __future__ import annotations

from server import preflight
from server.doctor.report import Finding, failed, passed
from server.store.migrate import discover

CHECK = "schema"


def check_schema(database_url: str) -> Finding:
    """Blocking (call from a thread)."""
    try:
        preflight.check_database(database_url, require_current=True)
    except preflight.StartupError as exc:
        return failed(CHECK, str(exc))
    return passed(CHECK, f"all {len(discover())} migrations applied")
