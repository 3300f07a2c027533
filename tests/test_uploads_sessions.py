"""Per-session folders: isolation, size-capped saving, the age-based sweep and reset."""
from __future__ import annotations

import io
import os
import time

import pytest

from optimizer.artifacts import store
from optimizer.models.uploads import TooLarge, UploadError, sessions


def test_session_ids_are_plain_tokens():
    assert sessions.session_dir("abc123").name == "abc123"
    for bad in ("../x", "a/b", "", "x" * 65, None, ".."):
        with pytest.raises(ValueError):
            sessions.session_dir(bad)


def test_each_session_has_its_own_upload_folders():
    a, b = sessions.new_upload_dir("alice1"), sessions.new_upload_dir("bob222")
    assert a.parent.parent.name == "alice1" and b.parent.parent.name == "bob222"
    assert sessions.session_dir("alice1") not in b.parents
    assert a.parent.parent.parent == sessions.sessions_root()


def test_save_upload_uses_a_safe_name_and_caps_the_size(tmp_path, monkeypatch):
    path = sessions.save_upload(tmp_path, "../../etc/pass wd.h5", b"12345")
    assert path.parent == tmp_path and path.name == "pass_wd.h5"
    assert path.read_bytes() == b"12345"
    monkeypatch.setenv("OPTIMIZER_MAX_UPLOAD_MB", "1")
    with pytest.raises(TooLarge, match="over the 1 MiB upload limit"):
        sessions.save_upload(tmp_path, "big.bin", io.BytesIO(bytes(1024 * 1024 + 1)))
    assert not (tmp_path / "big.bin").exists()
    with pytest.raises(UploadError, match="empty"):
        sessions.save_upload(tmp_path, "empty.npz", b"")


def test_sweep_removes_idle_sessions_but_not_live_runs_or_the_current_one():
    now = time.time()
    for sid in ("idle01", "fresh1", "live01", "mine01"):
        sessions.touch(sid)
    old = now - 3 * 24 * 3600
    for sid in ("idle01", "live01", "mine01"):
        (sessions.session_dir(sid) / sessions.LAST_SEEN).write_text(str(old))
    run = sessions.session_dir("live01") / "runs" / "r1"
    run.mkdir(parents=True)
    with store.RunLock(run):
        removed = sessions.sweep_stale(max_age_s=24 * 3600, now=now, keep="mine01")
    assert "idle01" in removed
    assert not {"fresh1", "live01", "mine01"} & set(removed)
    assert not sessions.session_dir("idle01").exists()
    assert sessions.session_dir("live01").exists()


def test_reset_removes_uploads_and_finished_runs_only():
    sid = "reset01"
    upload = sessions.new_upload_dir(sid)
    (upload / "model.h5").write_bytes(b"x")
    finished = sessions.session_dir(sid) / "runs" / "done"
    finished.mkdir(parents=True)
    removed = sessions.reset_session(sid)
    assert "uploads" in removed and "runs/done" in removed
    assert not upload.exists() and not finished.exists()


def test_removal_is_confined_to_the_sessions_root(tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    with pytest.raises(ValueError, match="not inside"):
        sessions.remove_upload(outside)
    assert outside.exists()
    link = sessions.sessions_root() / "linkto1"
    os.symlink(outside, link)
    try:
        assert "linkto1" not in sessions.sweep_stale(max_age_s=0, now=time.time() + 10)
        assert outside.exists()
    finally:
        link.unlink()


def test_the_upload_view_keeps_uploads_out_of_shared_caches():
    """Uploads never sit in st.cache_resource / st.cache_data (shared by every session)."""
    from pathlib import Path

    view = Path(__file__).resolve().parents[1] / "pages" / "common" / "upload_view.py"
    assert "st.cache" not in view.read_text()


def test_uploads_package_is_light():
    import subprocess
    import sys

    code = ("import sys, optimizer.models.uploads; "
            "print('tensorflow' in sys.modules, 'streamlit' in sys.modules, 'PIL' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False", "False"]
