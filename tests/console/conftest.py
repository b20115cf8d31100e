"""A real headless Chromium (Debian's chromium and chromium-driver) driven by selenium, and the
gateway with a live service behind it. Without the browser the tests skip, except under CI=true,
where they fail. Screenshots go to tests/output/ (gitignored) for a person to look at."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# The gateway's fixtures: simulator, mappings, a live service and the gateway (tokens alice/victor).
from tests.gateway.conftest import gateway, live, mappings, sim  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
OUTPUT = Path(__file__).resolve().parents[1] / "output"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1100",
)


def _require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if shutil.which(p) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} missing: apt-get install -y chromium chromium-driver"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true needs the console's browser: {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: object, name: str) -> Path:
    """Saves what the browser shows as tests/output/NAME.png."""
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    return path
