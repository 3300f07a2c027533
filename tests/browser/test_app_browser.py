"""The app in Debian's Chromium: every page loads cleanly, and the whole demo journey works.

The journey test is the newcomer's path on digits-cnn with the default answers: three clicks
from opening the app to the first measured chart (Next -> See my recommendation -> Run), then
the Results page with its three charts drawn.
"""
from __future__ import annotations

import re
import time

import pytest
from browser_helpers import charts_drawn, screenshot, wait_for_app
from playwright.sync_api import expect
from viewports import check_viewports

pytestmark = [pytest.mark.browser, pytest.mark.cost(70)]

RUN_TIMEOUT_MS = 900_000     # the real run: seconds on a quiet machine, minutes on a busy one

# The Model page is the default page: its address is the app's root.
PAGES = [("recommendation", "Recommendation"), ("", "Model"),
         ("situation", "Your situation"), ("run", "Run"), ("results", "Results")]


def _heading(page, text):
    return page.get_by_test_id("stHeading").filter(has_text=re.compile(f"^{re.escape(text)}$"))


def test_every_page_loads_without_an_exception(page):
    # A deep link first: a fresh server must still run app.py's navigation (pages/common/boot)
    responses = []                 # every response of every deep-linked page load
    page.on("response", lambda r: responses.append((r.status, r.url)))
    for url, title in PAGES:
        page.goto(f"/{url}")
        wait_for_app(page)
        expect(_heading(page, title)).to_be_visible()
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav.get_by_test_id("stSidebarNavLink")).to_have_count(10)  # 5 steps + 5 beside
        expect(nav).to_contain_text("3. Recommendation")
        if url == "recommendation":
            charts_drawn(page, 1)                       # the decision tree
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, f"page-{url or 'model'}")
    # the frontend found the server at once: no probe of /<page>/_stcore/... (serve.py)
    assert [u for status, u in responses if status == 404] == []
    assert any(u.endswith("/_stcore/health") for status, u in responses if status == 200)


@pytest.mark.slow          # a real run: conversion, QAT fine-tuning, latency timing
def test_the_demo_journey_from_model_to_charts(page):
    started = time.monotonic()      # the three-click path is timed (printed, not asserted)
    page.goto("/")
    wait_for_app(page)
    expect(_heading(page, "Model")).to_be_visible()
    model = page.get_by_test_id("stRadio").first
    expect(model.get_by_role("radio", name=re.compile("digits-cnn"))).to_be_checked()
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=120_000)   # the card
    screenshot(page, "journey-1-model")

    page.get_by_role("button", name="Next: your situation").click()      # click 1
    wait_for_app(page)
    expect(_heading(page, "Your situation")).to_be_visible()
    screenshot(page, "journey-2-situation")

    page.get_by_role("button", name="See my recommendation").click()     # click 2
    wait_for_app(page)
    expect(_heading(page, "Recommendation")).to_be_visible()
    expect(page.get_by_test_id("stAlertContainer").filter(
        has_text="Recommended for CPU: Quantization-aware training")).to_be_visible()
    charts_drawn(page, 1)
    tree = page.get_by_test_id("stPlotlyChart").first
    for box in ("Optimize", "Able to re-train", "Quantization-"):   # lines wrap per box
        expect(tree).to_contain_text(box)
    expect(page.get_by_text("Able to re-train the model? → Yes")).to_be_visible()
    screenshot(page, "journey-3-recommendation")

    page.get_by_role("button", name=re.compile(r"^Run \d+ models now")).click()   # click 3
    wait_for_app(page)
    expect(_heading(page, "Run")).to_be_visible()
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    screenshot(page, "journey-4-run-progress")

    done = page.get_by_role("button", name="See the full results")
    expect(done).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    charts_drawn(page, 1)                                  # the first measured chart
    print(f"\nthree-click path on digits-cnn: first chart {time.monotonic() - started:.1f} s "
          "after opening the app")
    expect(page.get_by_test_id("stPlotlyChart").first).to_contain_text("float32")
    screenshot(page, "journey-5-run-done")

    done.click()
    wait_for_app(page)
    expect(_heading(page, "Results")).to_be_visible()
    charts_drawn(page, 3)
    charts = page.get_by_test_id("stPlotlyChart")
    # the size the goals judge (no size goal: on disk), the basis the "best" line names
    expect(charts.nth(0)).to_contain_text("Accuracy vs size on disk")
    expect(charts.nth(1)).to_contain_text("Accuracy vs latency")
    expect(charts.nth(2)).to_contain_text("Model size")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "journey-6-results")
    check_viewports(page)           # projector 1280x720 and phone 390x844
