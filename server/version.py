"""The installed version of the service, for `hedging --version` and the `build_info` metric."""

from __future__ import annotations

import platform
from importlib import metadata

DISTRIBUTION = "polymarket-hedging"


def version() -> str:
    """The installed distribution's version, or "unknown" when run from a tree never installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def python_version() -> str:
    """The interpreter's version, as 3.11.2."""
    return platform.python_version()
