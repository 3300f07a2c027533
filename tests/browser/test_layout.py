"""Every page at a phone's, a projector's and a laptop's size, with a real run (issue 19).

One real digits-cnn run (two techniques) is put into a workspace of the test server; each page
is opened from its deep link with that workspace at 390x844, 1280x720 and 1440x900, saved as a
screenshot (test-results/screenshots/layout-<size>-<page>.png, the test output, never
committed) and checked in the DOM: no exception, no clipped metric (its text wider than its
box, or cut to "…"), no "None" in any table cell or data grid, nothing wider than the page,
and on the phone no sidebar over the content. Every deep link's responses are recorded: none
may be a 404 (the frontend's probe of ``/<page>/_stcore/...``, see serve.py).
"""
from __future__ import annotations

import pytest
from browser_helpers import charts_drawn, real_run, screenshot, wait_for_app
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.cost(150)]

SIZES = (("phone", 390, 844), ("projector", 1280, 720), ("laptop", 1440, 900))
#: (address, charts drawn there once the run is read): every page of the app.
PAGES = (("", 0), ("situation", 0), ("recommendation", 1), ("run", 0), ("results", 3),
         ("search", 0), ("layers", 0), ("graph", 0), ("my_runs", 0), ("learn", 2))
RUN_SPECS = "dynamic_range,integer"

#: Metric values whose text is wider than their box, or cut to an ellipsis.
_CLIPPED_METRICS = """() => [...document.querySelectorAll('[data-testid=stMetricValue]')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 || e.innerText.trim().endsWith('…')
               || [...e.querySelectorAll('*')].some(c => c.scrollWidth > c.clientWidth + 1))
  .map(e => e.innerText)"""
#: Table cells (HTML tables and the data grids' accessible cells) that read "None".
_NONE_CELLS = """() => [...document.querySelectorAll(
    '[data-testid=stMain] td, [data-testid=stMain] th, [data-testid=stMain] [role=gridcell]')]
  .filter(e => e.innerText.trim() === 'None').map(e => e.closest('table, [role=grid]')
  ?.getAttribute('aria-label') || e.closest('[data-testid]')?.dataset.testid || '?')"""
#: Table cells broken inside a word ("baseli ne"): a cell drawn on more lines than it has
#: words (split at spaces, dashes, "/", "_" and "+", where a line may break).
_BROKEN_WORDS = """() => [...document.querySelectorAll(
    '[data-testid=stMain] table:not([role=grid]) :is(th, td)')]
  .filter(th => th.innerText.trim())
  .filter(th => { const tops = new Set(), walk = document.createTreeWalker(th, 4);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const r = document.createRange(); r.selectNodeContents(n);
      for (const x of r.getClientRects()) tops.add(Math.round(x.top)); }
    return tops.size > th.innerText.trim().split(/[\\s\\-–—\\/_+]+/).length; })
  .map(th => th.innerText)"""


@pytest.fixture(scope="module")
def workspace_run(streamlit_workspace):
    """(token, run folder): a real run of digits-cnn in one workspace of the test server."""
    return real_run(streamlit_workspace, RUN_SPECS)


def _sidebar_over_content(page) -> bool:
    """Whether an open sidebar covers part of the main block (a phone's drawer left open)."""
    sidebar = page.get_by_test_id("stSidebar")
    if not sidebar.count() or sidebar.get_attribute("aria-expanded") == "false":
        return False
    box = sidebar.bounding_box()
    main = page.get_by_test_id("stMainBlockContainer").bounding_box()
    return bool(box and main and box["width"] > 1 and box["x"] + box["width"] > main["x"] + 1
                and box["x"] < main["x"] + main["width"])


@pytest.mark.parametrize("size,width,height", SIZES, ids=[s[0] for s in SIZES])
def test_every_page_at_three_sizes(page, workspace_run, size, width, height):
    token, _folder = workspace_run
    page.set_viewport_size({"width": width, "height": height})
    not_found = []
    page.on("response", lambda r: not_found.append(r.url) if r.status == 404 else None)
    problems = {}
    for address, charts in PAGES:
        page.goto(f"/{address}?w={token}")          # a deep link, as a shared address
        wait_for_app(page)
        expect(page.get_by_test_id("stHeading").first).to_be_visible()
        if charts and width >= 640:      # a phone shows the trees' paths in words instead
            charts_drawn(page, charts)
        page.wait_for_timeout(300)
        name = address or "model"
        screenshot(page, f"layout-{size}-{name}")
        found = {
            "exception": page.get_by_test_id("stException").count(),
            "clipped metrics": page.evaluate(_CLIPPED_METRICS),
            "None cells": page.evaluate(_NONE_CELLS),
            "cells broken inside a word": page.evaluate(_BROKEN_WORDS),
            "wider than the page": page.get_by_test_id("stMain").evaluate(
                "el => el.scrollWidth > el.clientWidth + 1"),
            "sidebar over the content": _sidebar_over_content(page),
        }
        found = {k: v for k, v in found.items() if v}
        if found:
            problems[name] = found
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert not_found == []
