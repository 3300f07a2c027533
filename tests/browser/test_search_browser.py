"""The search in Debian's Chromium: trials fill in live with the front, the verdict appears,
and the Per-layer repair page shows each layer's measured cost at int16 and float."""
from __future__ import annotations

import re

import pytest
from browser_helpers import charts_drawn, screenshot, wait_for_app
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.cost(60)]

SEARCH_TIMEOUT_MS = 900_000     # post-training only: minutes, but a busy machine queues runs


def _heading(page, text):
    return page.get_by_test_id("stHeading").filter(has_text=re.compile(f"^{re.escape(text)}$"))


def _nav(page, title):
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_for_app(page)


def test_search_pages_load_from_the_sidebar(page):
    page.goto("/")
    wait_for_app(page)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_contain_text("Go further")
    _nav(page, "Search my goals")
    expect(_heading(page, "Search my goals")).to_be_visible()
    expect(page.get_by_role("button", name="Start the search")).to_be_enabled()
    _nav(page, "Per-layer repair")
    expect(_heading(page, "Per-layer repair")).to_be_visible()
    expect(page.get_by_text("Run a search first")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


@pytest.mark.slow          # a real search of the digits-outliers demo
def test_a_search_fills_in_live_and_the_repair_shows_each_layers_precisions(page):
    page.goto("/")
    wait_for_app(page)
    page.get_by_role("radio", name=re.compile("digits-outliers")).check(force=True)
    wait_for_app(page)
    _nav(page, "Search my goals")
    # deterministic under load: the post-training conversions only (a fixed set of trials)
    # under the longest budget, which they never come near
    slider = page.get_by_role("slider")
    slider.focus()
    slider.press("End")
    expect(slider).to_have_attribute("aria-valuetext", "30")
    page.get_by_role("radio", name="post-training only (no fine-tuning)").check(force=True)
    page.get_by_role("button", name="Start the search").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    # live: the trials chart and table appear while the search still runs
    stop = page.get_by_role("button", name=re.compile("Stop the search"))
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=SEARCH_TIMEOUT_MS)
    expect(page.get_by_test_id("stPlotlyChart").first).to_contain_text(
        "Search: accuracy vs size on disk", timeout=SEARCH_TIMEOUT_MS)
    if stop.is_visible():
        screenshot(page, "search-1-live")
    verdict = page.get_by_test_id("stAlertContainer").filter(has_text="wins: the smallest file")
    expect(verdict).to_be_visible(timeout=SEARCH_TIMEOUT_MS)
    charts_drawn(page, 2)
    expect(page.get_by_text("Pareto front", exact=False).first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "search-2-verdict")

    page.get_by_role("button", name="See the per-layer repair").click()
    wait_for_app(page)
    expect(_heading(page, "Per-layer repair")).to_be_visible()
    # the search's sensitivity pass: each layer at int16 and float, measured, then a plan
    expect(page.get_by_text("A precision per layer")).to_be_visible()
    expect(page.get_by_text("Measured on the first 1000 training samples",
                            exact=False)).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    expect(page.get_by_role("button", name="Measure this plan")).to_be_visible()
    expect(page.get_by_role("button", name="Measure the per-layer int8 error")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "search-3-layers")
