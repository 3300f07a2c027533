"""The app in Vietnamese in Debian's Chromium (issue 24): every page at a phone's, a
projector's and a laptop's size with a real run, no English UI words in what a reader sees, and
the three-click journey, the run, the results and the report in Vietnamese.

Each page is opened from its deep link with ``?lang=vi``; its visible text (the main area, the
sidebar, and the words inside the charts' SVG) is checked with the catalogue's vocabularies
(``tests/vietnamese_text.py``: English words no Vietnamese translation uses, and English
function words; names, ids, units and numbers allowed). Screenshots:
``test-results/screenshots/vi-<size>-<page>.png`` (test output, never committed).
"""
from __future__ import annotations

import re
import time

import pytest
from browser_helpers import charts_drawn, real_run, screenshot, wait_for_app
from playwright.sync_api import expect
from vietnamese_text import english_lines

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.cost(240)]

RUN_TIMEOUT_MS = 900_000
SIZES = (("phone", 390, 844), ("projector", 1280, 720), ("laptop", 1440, 900))
#: (address, charts drawn there once the run is read): every page of the app.
#: (The Run page opened from its address shows what a new run would be -- the run itself is
#: read in the journey below.)
PAGES = (("", 0), ("situation", 0), ("recommendation", 1), ("run", 0), ("results", 3),
         ("search", 0), ("layers", 0), ("graph", 0), ("my_runs", 0), ("learn", 2))
RUN_SPECS = "dynamic_range,integer"

#: What a reader sees: the main area's and the sidebar's text, and every chart's SVG words. The
#: Material icons are words set in an icon font ("info", "download"): hidden while reading.
_VISIBLE = """() => {
  const hide = document.createElement('style');
  hide.textContent = '[aria-hidden=true][translate=no], [data-testid=stIconMaterial] ' +
                     '{display: none !important}';
  document.head.appendChild(hide);
  const texts = [
    ...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebar]')]
       .map(e => e.innerText),
    ...[...document.querySelectorAll('[data-testid=stPlotlyChart] svg text')]
       .map(t => t.textContent)].filter(t => t && t.trim());
  hide.remove();
  return texts;
}"""
#: A chart's words (title, subtitle, axis titles, annotations, legend) that reach past its
#: drawing: with the longer Vietnamese words, a title wider than a phone is cut off.
_CLIPPED_CHART_WORDS = """() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')]
  .flatMap(chart => {
    const svg = chart.querySelector('.main-svg');
    if (!svg) return [];
    const box = svg.getBoundingClientRect();
    return [...chart.querySelectorAll('.gtitle, .g-gtitle text, .g-xtitle text, ' +
                                      '.g-ytitle text, .annotation-text, .legendtext')]
      .filter(t => {
        const r = t.getBoundingClientRect();
        return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1 ||
                               r.top < box.top - 1 || r.bottom > box.bottom + 1);
      })
      .map(t => t.textContent);
  })"""
_CLIPPED_METRICS = """() => [...document.querySelectorAll('[data-testid=stMetricValue]')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 || e.innerText.trim().endsWith('…'))
  .map(e => e.innerText)"""


@pytest.fixture(scope="module")
def vi_run(streamlit_workspace):
    """(token, run folder): a real run of digits-cnn in one workspace of the test server."""
    return real_run(streamlit_workspace, RUN_SPECS)


def _visible_english(page) -> list[str]:
    return english_lines(page.evaluate(_VISIBLE))


@pytest.mark.parametrize("size,width,height", SIZES, ids=[s[0] for s in SIZES])
def test_every_page_in_vietnamese_at_three_sizes(page, vi_run, size, width, height):
    token, _folder = vi_run
    page.set_viewport_size({"width": width, "height": height})
    problems = {}
    for address, charts in PAGES:
        page.goto(f"/{address}?w={token}&lang=vi")
        wait_for_app(page)
        expect(page.get_by_test_id("stHeading").first).to_be_visible()
        if charts and width >= 640:      # a phone shows the trees' paths in words instead
            charts_drawn(page, charts)
        page.wait_for_timeout(300)
        name = address or "model"
        screenshot(page, f"vi-{size}-{name}")
        found = {
            "exception": page.get_by_test_id("stException").count(),
            "English": _visible_english(page),
            "clipped metrics": page.evaluate(_CLIPPED_METRICS),
            "clipped chart words": page.evaluate(_CLIPPED_CHART_WORDS),
            "wider than the page": page.get_by_test_id("stMain").evaluate(
                "el => el.scrollWidth > el.clientWidth + 1"),
            "not in Vietnamese": "lang=vi" not in page.url,
        }
        found = {k: v for k, v in found.items() if v}
        if found:
            problems[name] = found
    # the Results page's charts on the download size too (the longer words)
    page.goto(f"/results?w={token}&lang=vi")
    wait_for_app(page)
    page.get_by_test_id("stButtonGroup").get_by_text("Nén (gzip -9, tải xuống)").click()
    wait_for_app(page)
    charts_drawn(page, 3)
    clipped = page.evaluate(_CLIPPED_CHART_WORDS)
    if clipped:
        problems["results (gzip)"] = {"clipped chart words": clipped}
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


def _heading(page, text):
    return page.get_by_test_id("stHeading").filter(has_text=re.compile(f"^{re.escape(text)}$"))


def test_the_journey_run_results_and_report_in_vietnamese(page, tmp_path):
    """Three clicks (Tiếp -> Xem đề xuất -> Chạy), the run, the results and the report."""
    started = time.monotonic()
    page.goto("/?lang=vi")
    wait_for_app(page)
    expect(_heading(page, "Mô hình")).to_be_visible()
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=120_000)
    page.get_by_role("button", name="Tiếp: tình huống của bạn").click()          # click 1
    wait_for_app(page)
    expect(_heading(page, "Tình huống của bạn")).to_be_visible()
    page.get_by_role("button", name="Xem đề xuất cho tôi").click()               # click 2
    wait_for_app(page)
    expect(_heading(page, "Đề xuất")).to_be_visible()
    expect(page.get_by_test_id("stAlertContainer").filter(
        has_text="Đề xuất cho CPU: Huấn luyện có tính đến việc lượng tử hoá")).to_be_visible()
    charts_drawn(page, 1)
    # the tree's boxes wrap their words onto lines (SVG tspans: no space between them)
    expect(page.get_by_test_id("stPlotlyChart").first).to_contain_text(
        re.compile(r"Tối ưu hoá\s*mô\s*hình\?"))
    assert "lang=vi" in page.url
    page.get_by_role("button", name=re.compile(r"^Chạy \d+ mô hình ngay")).click()  # click 3
    wait_for_app(page)
    expect(_heading(page, "Chạy")).to_be_visible()
    done = page.get_by_role("button", name="Xem toàn bộ kết quả")
    expect(done).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    charts_drawn(page, 1)
    print(f"\nthe journey in Vietnamese: first chart {time.monotonic() - started:.1f} s after "
          "opening the app")
    assert _visible_english(page) == []
    screenshot(page, "vi-journey-run-done")
    done.click()
    wait_for_app(page)
    expect(_heading(page, "Kết quả")).to_be_visible()
    charts_drawn(page, 3)
    assert _visible_english(page) == []
    screenshot(page, "vi-journey-results")
    with page.expect_download() as info:
        page.get_by_role("button", name="Tải báo cáo xuống").click()
    report = tmp_path / "report.html"
    info.value.save_as(report)
    html = report.read_text(encoding="utf-8")
    assert re.search(r"<html lang=['\"]vi['\"]", html)
    assert "<h2>Kết quả</h2>" in html and "<h2>Nhận định</h2>" in html
    # commands and code are typed as they are (like file names): not UI words
    text = re.sub(r"<script.*?</script>|<style.*?</style>|<pre>.*?</pre>|<code>.*?</code>", " ",
                  html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    assert english_lines([text]) == []
