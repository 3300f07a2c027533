"""Issue 19's banner journey in the real browser: choose the microcontroller, run, check
readiness, see the banners change -- and stay changed after a reload.

Before the readiness check, the recommended ``integer_only`` is "not checked", never "✗ missed",
and no banner says that nothing meets the goals; after *Check readiness* its row says "✓ met",
the goals counter counts it and the verdict agrees with the guide, also on a reload. The
evaluation behind the banners is branch ``truth-numbers``' (one evaluation for the table, the
counter and the banners, ``report.verdict``); tests/app/test_banner.py checks the same journey
in-process.
"""
from __future__ import annotations

import re

import pytest
from browser_helpers import screenshot, wait_for_app
from playwright.sync_api import expect

RUN_TIMEOUT_MS = 900_000
CHECK_TIMEOUT_MS = 600_000       # TFLite Micro's interpreter on every variant, on a busy host

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.cost(60)]


def _key_row(page, technique: str):
    return page.locator("table.key-table tr").filter(
        has=page.locator("td").first.filter(has_text=re.compile(f"^{technique}$")))


def _banners(page) -> str:
    return "\n".join(page.get_by_test_id("stAlertContainer").all_text_contents())


def _goals_counter(page):
    return page.get_by_test_id("stMetric").filter(has_text=re.compile(r"Meet (your|the) goals"))


def test_check_readiness_on_the_microcontroller_changes_the_banners(page):
    page.goto("/situation")
    wait_for_app(page)
    page.get_by_test_id("stRadio").filter(has_text="Where will it run?").get_by_text(
        "Microcontroller", exact=True).click()
    page.get_by_test_id("stCheckbox").filter(
        has_text="I can afford to retrain").get_by_text("I can afford to retrain").click()
    wait_for_app(page)
    page.get_by_role("button", name="See my recommendation").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlertContainer").filter(
        has_text="Recommended for Microcontroller")).to_contain_text("integer_only")
    page.get_by_role("button", name=re.compile(r"^Run \d+ models now")).click()
    wait_for_app(page)
    done = page.get_by_role("button", name="See the full results")
    expect(done).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    done.click()
    wait_for_app(page)

    # not checked yet: never "missed", and no banner says nothing meets the goals
    row = _key_row(page, "integer_only")
    expect(row).to_be_visible()
    expect(row).not_to_contain_text("✗ missed")
    assert "None of the measured results meets it" not in _banners(page)
    screenshot(page, "banner-1-not-checked")
    before = _goals_counter(page).inner_text()

    page.get_by_role("button", name=re.compile(r"^Check readiness on Microcontroller")).click()
    wait_for_app(page, timeout=CHECK_TIMEOUT_MS)
    for reload in (False, True):
        if reload:
            page.reload()
            wait_for_app(page)
        row = _key_row(page, "integer_only")
        expect(row).to_contain_text("✓ met")
        expect(_goals_counter(page)).not_to_have_text(before)
        expect(page.get_by_test_id("stAlertContainer").filter(
            has_text="agreed with the guide's recommendation")).to_be_visible()
        banners = _banners(page)
        assert "None of the measured results meets it" not in banners
        assert "disagree with the guide" not in banners
        screenshot(page, f"banner-2-checked{'-reloaded' if reload else ''}")
