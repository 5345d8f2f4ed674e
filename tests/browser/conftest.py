"""Browser-test harness: Playwright (sync API) driving Debian's Chromium against a live server.

Playwright's own browser download (``playwright install``) is not used: it needs the network at
test time. Debian's ``chromium`` package is installed instead when missing (root only).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.live_server import LiveServer, start_live_server
from tests.ui.babel_support import compile_translations

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 5000


def _apt_install(*packages: str) -> subprocess.CompletedProcess:
    apt = shutil.which("apt-get") or "/usr/bin/apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(
        [apt, "install", "-y", *packages], env=env, capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:  # a stale package index is the usual cause
        subprocess.run([apt, "update"], env=env, capture_output=True, text=True, timeout=600)
        result = subprocess.run(
            [apt, "install", "-y", *packages], env=env, capture_output=True, text=True, timeout=900
        )
    return result


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    if not CHROMIUM.exists():
        if not _is_root():
            pytest.fail(
                f"browser tests need Chromium at {CHROMIUM}: run `sudo apt-get install -y chromium` "
                "(or set CHROMIUM_PATH); `playwright install` is not used by this project"
            )
        result = _apt_install("chromium")
        if result.returncode != 0 or not CHROMIUM.exists():
            pytest.fail(
                f"`apt-get install -y chromium` failed ({result.returncode}):\n{result.stderr[-2000:]}"
            )
    if not CJK_FONT.exists() and _is_root():
        _apt_install("fonts-noto-cjk")  # optional: Chinese glyphs in screenshots; tests pass without
    return CHROMIUM


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    compile_translations()  # before the server renders its first English page
    server = start_live_server(tmp_path_factory.mktemp("browser"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(chromium_executable):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(chromium_executable), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test, its base URL on the live server."""
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()
