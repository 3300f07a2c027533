"""Helpers for the browser tests: wait for Streamlit, wait for charts, full-page screenshots."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def wait_for_app(page, initial_wait_ms: int = 250, timeout: int = 60_000) -> None:
    """Wait until Streamlit is connected and the script has finished running."""
    page.wait_for_timeout(initial_wait_ms)
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)


def charts_drawn(page, count: int, timeout: int = 60_000) -> None:
    """Wait until ``count`` plotly charts have drawn their SVG."""
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts).to_have_count(count, timeout=timeout)
    for i in range(count):
        expect(charts.nth(i).locator(".main-svg").first).to_be_visible(timeout=timeout)


def screenshot(page, name: str) -> Path:
    """Save a full-height screenshot (Streamlit scrolls inside stMain, not the document)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.get_by_test_id("stMain").evaluate("el => el.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    page.wait_for_timeout(400)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


def real_run(workspace: Path, specs: str) -> tuple[str, Path]:
    """(token, run folder): a real run of digits-cnn with ``specs`` in a new workspace token of
    the test server's ``workspace``, recorded in its history."""
    import os
    import subprocess
    import sys

    old = os.environ.get("OPTIMIZER_WORKSPACE")
    os.environ["OPTIMIZER_WORKSPACE"] = str(workspace)
    try:
        from optimizer import new_run_id, paths
        from optimizer.workspace import index
        from optimizer.workspace.browser import issue_token

        token = issue_token()
        folder = paths.session_dir(token) / "runs" / new_run_id()
        done = subprocess.run(
            [sys.executable, "-m", "optimizer", "run", "--model", "digits-cnn", "--technique",
             specs, "--out", str(folder)], capture_output=True, text=True, timeout=900,
            env={**os.environ})
        assert done.returncode == 0, done.stderr[-2000:]
        index.record(folder)
    finally:
        if old is None:
            os.environ.pop("OPTIMIZER_WORKSPACE", None)
        else:
            os.environ["OPTIMIZER_WORKSPACE"] = old
    return token, folder
