"""Where an upload's files go: one folder per upload in its own workspace, safe names, the
size capped while writing, removal confined to the workspaces."""
from __future__ import annotations

import io

import pytest

from optimizer import paths
from optimizer.models.uploads import TooLarge, UploadError, saving


def test_each_workspace_has_its_own_upload_folders():
    a, b = saving.new_upload_dir("alice1"), saving.new_upload_dir("bob222")
    assert a.parent.parent.name == "alice1" and b.parent.parent.name == "bob222"
    assert paths.session_dir("alice1") not in b.parents
    assert a.parent.parent.parent == paths.sessions_root()
    with pytest.raises(ValueError):
        saving.new_upload_dir("../alice1")


def test_save_upload_uses_a_safe_name_and_caps_the_size(tmp_path, monkeypatch):
    path = saving.save_upload(tmp_path, "../../etc/pass wd.h5", b"12345")
    assert path.parent == tmp_path and path.name == "pass_wd.h5"
    assert path.read_bytes() == b"12345"
    monkeypatch.setenv("OPTIMIZER_MAX_UPLOAD_MB", "1")
    with pytest.raises(TooLarge, match="over the 1 MiB upload limit"):
        saving.save_upload(tmp_path, "big.bin", io.BytesIO(bytes(1024 * 1024 + 1)))
    assert not (tmp_path / "big.bin").exists()
    with pytest.raises(UploadError, match="empty"):
        saving.save_upload(tmp_path, "empty.npz", b"")


def test_removal_is_confined_to_the_workspaces(tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    with pytest.raises(ValueError, match="not inside"):
        saving.remove_upload(outside)
    assert outside.exists()
    inside = saving.new_upload_dir("remove1")
    assert saving.remove_upload(inside) and not inside.exists()
    assert saving.remove_upload(inside) is False


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
