"""Safe defaults: `make run` listens on 127.0.0.1; `make run-shared` names the server so
Streamlit never looks up a public IP at start-up; OPTIMIZER_ACCESS_TOKEN is asked once."""
from __future__ import annotations

import subprocess
from pathlib import Path

from app_helpers import new_app

ROOT = Path(__file__).resolve().parents[2]


def _make(*args) -> str:
    return subprocess.run(["make", "-n", *args], capture_output=True, text=True, cwd=ROOT,
                          check=True).stdout


def test_make_run_binds_to_this_machine_only():
    plain = _make("run")
    assert "--server.address 127.0.0.1" in plain and "--browser.serverAddress" not in plain
    shared = _make("run-shared")
    assert "ADDRESS=0.0.0.0" in shared
    wide = _make("run", "ADDRESS=0.0.0.0")
    # A named server: Streamlit prints it instead of asking an outside service for the IP.
    assert "--server.address 0.0.0.0" in wide and "--browser.serverAddress" in wide
    assert "--browser.gatherUsageStats false" in wide


def test_the_access_token_is_asked_once_per_browser(monkeypatch):
    monkeypatch.setenv("OPTIMIZER_ACCESS_TOKEN", "workshop-secret")
    at = new_app()
    at.run()
    assert [t.label for t in at.text_input] == ["Access token"] and not at.title[1:]
    at.text_input[0].input("wrong")
    [b for b in at.button if b.label == "Enter"][0].click().run()
    assert "not the access token" in at.error[0].value
    at.text_input[0].input("workshop-secret")
    [b for b in at.button if b.label == "Enter"][0].click().run()
    assert not at.exception and "Access token" not in [t.label for t in at.text_input]
    token = at.session_state["session_id"]
    again = new_app()                        # a reload of the same link: not asked again
    again.query_params["w"] = token
    again.run()
    assert "Access token" not in [t.label for t in again.text_input]
    stranger = new_app()
    stranger.run()
    assert [t.label for t in stranger.text_input] == ["Access token"]
