"""Links that only read, one workspace per browser (issue 20), in a real browser.

A new tab of the same browser on the plain address opens the first tab's workspace (the token
travels in a cookie); a share link opened in another browser offers no control that writes,
the same actions asked for directly with the viewer's workspace are refused, the owner's run
folder is byte-identical afterwards, and "Copy into my workspace" gives the viewer a run of
their own. The runs are synthetic folders put into the server's workspace (no TensorFlow).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import screenshot, wait_for_app
from playwright.sync_api import expect
from run_folders import folder_hashes, make_run

pytestmark = [pytest.mark.browser, pytest.mark.cost(40)]

#: Controls that write into a run folder, start work or remove something.
WRITING = re.compile(r"check readiness|start|run again|measure again|cancel|delete|repair|"
                     r"stop|keep these|try other|remove", re.I)


@pytest.fixture
def server_workspace(streamlit_workspace, monkeypatch):
    """This process's library pointed at the server's workspace (its secret, its history)."""
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(streamlit_workspace))
    return streamlit_workspace


def _run_of(token: str):
    from optimizer import new_run_id, paths
    from optimizer.workspace import index

    folder = make_run(paths.session_dir(token) / "runs" / new_run_id(), files=True)
    index.record(folder)
    return folder


def _token(page) -> str:
    return parse_qs(urlparse(page.url).query)["w"][0]


def _enabled_buttons(page) -> list[str]:
    """The name of every visible, enabled button once the page has drawn its last section
    (a Material icon's ligature, the first line of a button's text, is left out)."""
    page.get_by_role("button", name="Results table (CSV)").wait_for()
    buttons, names = page.get_by_role("button"), []
    for i in range(buttons.count()):
        button = buttons.nth(i)
        if button.is_visible() and button.is_enabled():
            lines = [line for line in button.inner_text().splitlines() if line.strip()]
            names.append(lines[-1].strip() if lines else (button.get_attribute("aria-label")
                                                           or button.get_attribute("title")
                                                           or ""))
    return names


def test_a_new_tab_of_the_same_browser_opens_the_same_workspace(page, base_url,
                                                                server_workspace):
    from optimizer.workspace.browser import cookie_name, is_issued

    page.goto(f"{base_url}/my_runs")                       # the plain address
    wait_for_app(page)
    expect(page.get_by_text("No runs yet in this workspace.")).to_be_visible()
    token = _token(page)
    assert is_issued(token)
    folder = _run_of(token)                                 # a run of this workspace
    name = cookie_name()
    page.wait_for_function(f"document.cookie.includes('{name}={token}')")

    tab = page.context.new_page()                           # a new tab, same browser
    tab.goto(f"{base_url}/my_runs")                         # no ?w= in the address
    wait_for_app(tab)
    assert _token(tab) == token
    expect(tab.get_by_test_id("stCode").filter(has_text=folder.name)).to_be_visible()
    screenshot(tab, "new-tab-same-workspace")

    other = page.context.browser.new_context()              # another browser: its own
    stranger = other.new_page()
    stranger.goto(f"{base_url}/my_runs")
    wait_for_app(stranger)
    expect(stranger.get_by_text("No runs yet in this workspace.")).to_be_visible()
    assert _token(stranger) != token
    other.close()


def test_a_hand_made_token_in_the_address_or_the_cookie_is_not_adopted(page, base_url,
                                                                      server_workspace):
    import secrets

    from optimizer.workspace.browser import cookie_name

    hand_made = secrets.token_urlsafe(16)
    host = urlparse(base_url).hostname
    page.context.add_cookies([{"name": cookie_name(), "value": hand_made, "domain": host,
                               "path": "/"}])
    page.goto(f"{base_url}/my_runs?w={secrets.token_urlsafe(16)}")
    wait_for_app(page)
    token = _token(page)
    assert token != hand_made and len(token) == 44
    expect(page.get_by_text("No runs yet in this workspace.")).to_be_visible()
    page.wait_for_function(f"document.cookie.includes('{cookie_name()}={token}')")


def test_a_link_viewer_cannot_change_the_owners_run(browser, base_url, server_workspace):
    from optimizer import paths, read_run
    from optimizer.access import ReadOnly
    from optimizer.runs.background import cancel_run
    from optimizer.runs.readiness import check_variants
    from optimizer.workspace.browser import issue_token

    owner = issue_token()
    folder = _run_of(owner)
    before = folder_hashes(folder)

    mine = browser.new_context(viewport={"width": 1400, "height": 900})
    owner_page = mine.new_page()                            # the owner has the control...
    owner_page.goto(f"{base_url}/results?w={owner}")
    wait_for_app(owner_page)
    expect(owner_page.get_by_role("button", name=re.compile("Check readiness"))).to_be_enabled()
    mine.close()

    theirs = browser.new_context(viewport={"width": 1400, "height": 900})
    viewer_page = theirs.new_page()                         # ...a link viewer has none
    viewer_page.goto(f"{base_url}/results?run={folder.name}")
    wait_for_app(viewer_page)
    expect(viewer_page.get_by_text("A shared run, opened from its link (read-only)")) \
        .to_be_visible()
    expect(viewer_page.get_by_test_id("stException")).to_have_count(0)
    expect(viewer_page.get_by_role("button", name="Copy into my workspace")).to_be_enabled()
    buttons = _enabled_buttons(viewer_page)
    assert "Copy into my workspace" in buttons
    assert [b for b in buttons if WRITING.search(b)] == [], buttons
    viewer = _token(viewer_page)
    assert viewer != owner
    screenshot(viewer_page, "share-link-read-only")

    results = read_run(folder).results                     # asked for directly: refused
    with pytest.raises(ReadOnly):
        check_variants(results, "cpu", workspace=viewer)
    with pytest.raises(ReadOnly):
        cancel_run(folder, workspace=viewer)
    assert folder_hashes(folder) == before

    viewer_page.get_by_role("button", name="Copy into my workspace").click()
    wait_for_app(viewer_page)
    expect(viewer_page.get_by_text("A shared run")).to_have_count(0)
    expect(viewer_page.get_by_role("button", name=re.compile("Check readiness"))).to_be_enabled()
    assert "run=" not in viewer_page.url and _token(viewer_page) == viewer
    copies = list((paths.session_dir(viewer) / "runs").iterdir())
    assert len(copies) == 1 and copies[0].name != folder.name
    assert folder_hashes(folder) == before                  # every file, byte for byte
    theirs.close()
