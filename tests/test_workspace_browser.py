"""Browser workspaces: server-issued tokens only, the choice a new session makes (address,
cookie, new), the secret's permissions, the age-based sweep and reset."""
from __future__ import annotations

import os
import secrets
import stat
import time

import pytest

from optimizer import paths
from optimizer.artifacts import store
from optimizer.models.uploads import saving
from optimizer.workspace import browser


def test_workspace_ids_are_plain_tokens():
    assert paths.session_dir("abc123").name == "abc123"
    for bad in ("../x", "a/b", "", "x" * 65, None, ".."):
        with pytest.raises(ValueError):
            paths.session_dir(bad)


def test_only_tokens_this_server_issued_are_accepted():
    token = browser.issue_token()
    assert browser.is_issued(token) and len(token) == 44
    assert paths.session_dir(token).name == token           # a plain folder name
    assert browser.issue_token() != token
    hand_made = [secrets.token_urlsafe(16),                  # 22 allowed characters (issue 20)
                 "a" * 44, token[:22] + secrets.token_urlsafe(16), token[:-1] + "A"
                 if token[-1] != "A" else token[:-1] + "B", token + "x", None, 42, ""]
    assert not any(browser.is_issued(text) for text in hand_made)


def test_a_new_session_takes_the_address_then_the_cookie_else_a_new_token():
    mine, other = browser.issue_token(), browser.issue_token()
    assert browser.choose_token(mine, other) == (mine, "address")
    assert browser.choose_token(None, mine) == (mine, "cookie")
    assert browser.choose_token("hand-made-token-aaaaaaaaaaaaa", mine) == (mine, "cookie")
    for address, cookie in ((None, None), ("a" * 44, None), (None, "b" * 22),
                            (secrets.token_urlsafe(16), secrets.token_urlsafe(16))):
        token, source = browser.choose_token(address, cookie)
        assert source == "new" and browser.is_issued(token) and token not in (address, cookie)


def test_the_secret_is_private_and_a_new_secret_voids_every_token(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_WORKSPACE", str(tmp_path))
    token = browser.issue_token()
    path = tmp_path / browser.SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == browser.SECRET_BYTES
    os.chmod(path, 0o644)                           # loosened by hand: made private again
    assert browser.is_issued(token)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    name = browser.cookie_name()
    assert name.startswith("litert_workspace_") and name == browser.cookie_name()
    path.unlink()                                   # another server's secret
    assert not browser.is_issued(token) and browser.cookie_name() != name
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="damaged"):
        browser.issue_token()


def test_state_round_trips_per_workspace():
    token = browser.issue_token()
    assert browser.load_state(token) == {}
    browser.save_state(token, {"model_ref": "tabular-mlp"})
    assert browser.load_state(token) == {"model_ref": "tabular-mlp"}
    assert browser.load_state(browser.issue_token()) == {}


def test_sweep_removes_idle_sessions_but_not_live_runs_or_the_current_one():
    now = time.time()
    for sid in ("idle01", "fresh1", "live01", "mine01"):
        browser.touch(sid)
    old = now - 3 * 24 * 3600
    for sid in ("idle01", "live01", "mine01"):
        (paths.session_dir(sid) / browser.LAST_SEEN).write_text(str(old))
    run = paths.session_dir("live01") / "runs" / "r1"
    run.mkdir(parents=True)
    with store.RunLock(run):
        removed = browser.sweep_stale(max_age_s=24 * 3600, now=now, keep="mine01")
    assert "idle01" in removed
    assert not {"fresh1", "live01", "mine01"} & set(removed)
    assert not paths.session_dir("idle01").exists()
    assert paths.session_dir("live01").exists()


def test_reset_removes_uploads_and_finished_runs_only():
    sid = "reset01"
    upload = saving.new_upload_dir(sid)
    (upload / "model.h5").write_bytes(b"x")
    finished = paths.session_dir(sid) / "runs" / "done"
    finished.mkdir(parents=True)
    removed = browser.reset_session(sid)
    assert "uploads" in removed and "runs/done" in removed
    assert not upload.exists() and not finished.exists()


def test_the_sweep_never_follows_a_link_out_of_the_sessions_root(tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    link = paths.sessions_root() / "linkto1"
    os.symlink(outside, link)
    try:
        assert "linkto1" not in browser.sweep_stale(max_age_s=0, now=time.time() + 10)
        assert outside.exists()
    finally:
        link.unlink()


def test_an_unsigned_token_from_before_signing_is_looked_up_never_created():
    """Bookmarks made before tokens were signed keep their workspace (this server holds its
    page state); the same shape chosen by hand, with no workspace behind it, starts a new one."""
    old = secrets.token_urlsafe(16)
    assert not browser.is_issued(old)
    assert browser.choose_token(old, None)[1] == "new"
    browser.save_state(old, {"model": "digits-cnn"})
    assert browser.is_issued(old)
    assert browser.choose_token(old, None) == (old, "address")
