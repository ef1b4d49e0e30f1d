"""The planners' app in a real browser: `streamlit run` on a free localhost port, Debian's Chromium via Playwright.

With every request off localhost refused (as on a force network with no internet), the map must draw, a
filter change must change the table, and nothing may be fetched from anywhere else.
"""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (make test installs it)")
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "apps" / "streamlit_app.py"),
                             "--server.headless", "true", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _not_blank(png: bytes) -> float:
    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(png)).convert("L"), float)
    return float(a.std())


def test_map_draws_offline_and_a_filter_changes_the_table(server):
    outside: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})

        def route(r):
            url = r.request.url
            host = url.split("/")[2].split(":")[0] if "://" in url else ""
            if url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                r.continue_()
            else:
                outside.append(url)
                r.abort()

        page.route("**/*", route)
        page.goto(f"{server}/hotspot_map", timeout=60_000)
        page.wait_for_selector("canvas", timeout=180_000)
        page.get_by_text("cells drawn").wait_for(timeout=120_000)
        page.wait_for_timeout(3000)
        canvas = page.locator("canvas").first
        assert _not_blank(canvas.screenshot()) > 5  # hexagons, outlines and names drawn, not an empty frame
        before = page.get_by_text("cells drawn").inner_text()
        table_before = page.locator("[data-testid='stDataFrame']").first.screenshot()
        page.get_by_text("10", exact=True).first.click()  # H3 resolution 9 -> 10
        page.wait_for_function(f"() => !document.body.innerText.includes({before!r})", timeout=120_000)
        page.wait_for_timeout(3000)
        after = page.get_by_text("cells drawn").inner_text()
        table_after = page.locator("[data-testid='stDataFrame']").first.screenshot()
        page.screenshot(path=str(ROOT / "tests" / ".app_browser.png"))
        browser.close()
    assert before != after
    assert table_before != table_after
    assert not outside, f"the app fetched from outside localhost: {outside[:3]}"
