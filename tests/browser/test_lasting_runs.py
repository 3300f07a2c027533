"""Runs that last, in a real browser: a run survives a reload and a server restart in the middle
of it (the same address shows it finished), and its share link opens in a fresh browser.

This test starts its own server (it restarts it), on its own workspace, and runs the demo's
default techniques once for real.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser_helpers import charts_drawn, screenshot, wait_for_app
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.cost(30)]

RUN_TIMEOUT_MS = 900_000
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` on a fixed port and workspace, which can be restarted."""

    def __init__(self, workspace, log_path):
        self.port, self.workspace, self.log_path = _free_port(), workspace, log_path
        self.url, self.proc = f"http://127.0.0.1:{self.port}", None

    def start(self):
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(self.port),
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        env = {**os.environ, "OPTIMIZER_WORKSPACE": str(self.workspace)}
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env,
                                         start_new_session=True)
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.read() == b"ok":
                        return
            except OSError:
                pass
            assert self.proc.poll() is None and time.time() < deadline, \
                self.log_path.read_text()
            time.sleep(0.2)

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()            # the server only: the run has its own group
            self.proc.wait(timeout=20)
            self.proc = None


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path / "workspace", tmp_path / "server.log")
    server.start()
    yield server
    server.stop()


def test_a_run_survives_a_reload_and_a_restart_and_its_link_opens_anywhere(server, page,
                                                                          browser, monkeypatch):
    # A workspace link whose saved state picked one cheap technique (float16), as the
    # Recommendation page would have: the run takes seconds, not a QAT fine-tune. The token is
    # one the server issued (signed with the secret in its workspace): no other is adopted.
    from optimizer.workspace.browser import issue_token

    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(server.workspace))
    token = issue_token()
    kept = server.workspace / "sessions" / token / "state.json"
    kept.parent.mkdir(parents=True)
    kept.write_text(json.dumps({"model_ref": "digits-cnn", "run_specs": ["float16"]}))
    page.goto(f"{server.url}/run?w={token}")
    wait_for_app(page)
    expect(page).to_have_url(re.compile(rf"[?&]w={token}"))             # the workspace link
    expect(page.get_by_text("float16")).not_to_have_count(0)
    page.get_by_role("button", name="Start the run").click()
    wait_for_app(page)
    expect(page.get_by_role("button", name="Cancel the run")).to_be_visible()
    address = page.url

    server.stop()                                                       # mid-run
    server.start()
    page.goto(address)                                                  # the same address
    wait_for_app(page)
    expect(page.get_by_role("button", name="Start the run")).to_have_count(0)
    expect(page.get_by_role("button", name="See the full results")).to_be_visible(
        timeout=RUN_TIMEOUT_MS)
    page.reload()                                                       # F5 once finished
    wait_for_app(page)
    expect(page.get_by_role("button", name="See the full results")).to_be_visible()
    link = page.get_by_test_id("stCode").filter(has_text="/results?run=").inner_text().strip()
    screenshot(page, "lasting-run-after-restart")

    stranger = browser.new_context(viewport={"width": 1400, "height": 900})
    other = stranger.new_page()
    other.goto(f"{server.url}{link}")
    wait_for_app(other)
    expect(other.get_by_text("A shared run, opened from its link")).to_be_visible()
    charts_drawn(other, 3)
    expect(other.get_by_test_id("stException")).to_have_count(0)
    screenshot(other, "lasting-run-shared-link")
    stranger.close()
