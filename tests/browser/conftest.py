"""Real-browser fixtures: one Streamlit server per test session, driven by Debian's Chromium.

Recipe: ../shared/reference/browser-testing.md. The server gets its own OPTIMIZER_WORKSPACE
(a temporary folder), ``--client.toolbarMode minimal`` and loopback only; pytest-playwright's
``page`` fixture gives each test a new browser context, i.e. a fresh Streamlit session.
Screenshots go to test-results/screenshots/ (the viewport grown to the page's full height).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run",
                 "--no-default-browser-check"]

expect.set_options(timeout=30_000)   # first plotly render on a busy 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def streamlit_workspace(tmp_path_factory):
    """The server's OPTIMIZER_WORKSPACE (a test may put runs there, as the app would)."""
    return tmp_path_factory.mktemp("browser-workspace")


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory, streamlit_workspace):
    """Start ``streamlit run serve.py`` (app.py, as ``make run`` serves it) on a free port;
    yield its URL; stop it afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install it with `make chromium` "
                    "(apt-get install --no-install-recommends chromium)")
    port = _free_port()
    workspace = streamlit_workspace
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {**os.environ, "OPTIMIZER_WORKSPACE": str(workspace)}
    cmd = [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--client.toolbarMode", "minimal"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read() == b"ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("streamlit did not start:\n" + log_path.read_text())
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def base_url(streamlit_server):
    return streamlit_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}
