"""Projector and phone checks for the browser tests: screenshot a page at 1280x720 and 390x844
and assert that the results table's key columns fit without scrolling sideways."""
from __future__ import annotations

import re

from browser_helpers import screenshot, wait_for_app
from playwright.sync_api import expect

#: (name, width, height): a projector and a phone.
VIEWPORTS = (("projector", 1280, 720), ("phone", 390, 844))

_SCROLLERS = """el => [el, ...el.querySelectorAll('*')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
  .map(e => `${e.tagName}.${e.className}: ${e.scrollWidth} > ${e.clientWidth}`)"""


def key_columns_fit(page) -> None:
    """The Results page's key-column table scrolls nowhere and ends inside the viewport."""
    table = page.locator("table.key-table").first
    expect(table).to_be_visible()
    expect(table).to_contain_text("Latency")
    assert table.evaluate(_SCROLLERS) == []
    box = table.bounding_box()
    assert box["x"] + box["width"] <= page.viewport_size["width"] + 1, box
    main = page.get_by_test_id("stMain")
    assert main.evaluate("el => el.scrollWidth <= el.clientWidth + 1")


def open_page(page, title: str) -> None:
    """Open a page through the sidebar (keeps the session); on a phone the sidebar is a
    drawer, so open it first."""
    if page.viewport_size["width"] < 768:      # the sidebar is a collapsed drawer there
        opener = page.get_by_test_id("stExpandSidebarButton")
        if opener.is_visible():                 # else the drawer is still open
            opener.click()
            page.wait_for_timeout(600)
    page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    wait_for_app(page)
    closer = page.get_by_test_id("stSidebarCollapseButton")
    if page.viewport_size["width"] < 768 and closer.is_visible():   # close the drawer
        closer.locator("button").first.click(force=True)
        page.wait_for_timeout(600)
    expect(page.get_by_test_id("stHeading").filter(
        has_text=re.compile(f"^{re.escape(title)}$"))).to_be_visible()


def check_viewports(page) -> None:
    """Screenshot Recommendation and Results at each viewport; the key columns must fit."""
    original = page.viewport_size
    for name, width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(1000)                 # Streamlit re-lays out (sidebar drawer)
        open_page(page, "Recommendation")
        tree = page.get_by_test_id("stPlotlyChart").first
        if width >= 640:
            expect(tree.locator(".main-svg").first).to_be_visible()
        else:                      # on a phone the path in words replaces the wide tree
            expect(tree).to_be_hidden()
            expect(page.get_by_text("Able to re-train the model? → Yes")).to_be_visible()
        assert page.get_by_test_id("stMain").evaluate("el => el.scrollWidth <= el.clientWidth + 1")
        screenshot(page, f"{name}-recommendation")
        open_page(page, "Results")
        key_columns_fit(page)
        screenshot(page, f"{name}-results")
    page.set_viewport_size(original)
