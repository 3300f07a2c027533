"""The hand-over report in Debian's headless Chromium: written by ``python -m optimizer report``
from a run folder, it opens from disk with its three charts drawn, no console error and not a
single request to the network (plotly.js is inlined)."""
from __future__ import annotations

import subprocess
import sys

import pytest
from browser_helpers import SCREENSHOTS
from fake_runs import write_run
from playwright.sync_api import expect

from optimizer import AccuracyGoal, Answers, Goals

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    run_dir = write_run(root / "run-1", answers=Answers(data="labelled", effort="thorough"),
                        goals=Goals(accuracy=AccuracyGoal(max_drop=0.01)))
    out = root / "report.html"
    done = subprocess.run([sys.executable, "-m", "optimizer", "report", str(run_dir), "--out",
                           str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out


def test_report_opens_offline_with_three_charts(page, report_file):
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(report_file.as_uri())
    charts = page.locator(".chart .js-plotly-plot")
    expect(charts).to_have_count(3)
    for i in range(3):
        expect(charts.nth(i).locator(".main-svg").first).to_be_visible()
    expect(charts.nth(1)).to_contain_text("Accuracy vs latency")
    expect(page.locator("body")).to_contain_text("guide_contradicted")
    expect(page.get_by_role("button", name="Save PNG (for slides)")).to_have_count(3)
    page.wait_for_timeout(500)
    assert errors == []
    remote = [u for u in requests if not u.startswith(("file:", "data:", "blob:"))]
    assert remote == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-1280.png"), full_page=True)


def test_report_charts_export_png(page, report_file):
    page.goto(report_file.as_uri())
    expect(page.locator(".chart .js-plotly-plot .main-svg").first).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name="Save PNG (for slides)").first.click()
    download = info.value
    assert download.suggested_filename.endswith(".png")
    assert download.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
