"""Safe zip handling: what is extracted, what is refused, and the limits that apply."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest

from optimizer.models.uploads import TooLarge, UnreadableFile, UnsafeArchive, limits
from optimizer.models.uploads.archives import (
    check_zip,
    entry_path,
    open_zip,
    read_member,
    safe_extract,
)


def _zip(path, entries):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


def test_a_normal_archive_extracts_inside_its_folder(tmp_path):
    archive = _zip(tmp_path / "ok.zip", [("model/saved_model.pb", b"pb"),
                                         ("model/variables/variables.index", b"idx"),
                                         ("./model/assets/vocab.txt", b"a\nb")])
    written = safe_extract(archive, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "model/assets/vocab.txt", "model/saved_model.pb", "model/variables/variables.index"]
    assert (tmp_path / "out/model/saved_model.pb").read_bytes() == b"pb"


@pytest.mark.parametrize("name,words", [
    ("../up.txt", "outside"), ("a/../../up.txt", "outside"), ("/abs.txt", "absolute"),
    ("C:/windows.txt", "absolute"), ("a\\..\\b.txt", "backslash")])
def test_entry_names_that_could_escape_are_refused(name, words):
    with pytest.raises(UnsafeArchive, match=words):
        entry_path(zipfile.ZipInfo(name))


def test_entry_count_and_total_size_limits(tmp_path, monkeypatch):
    archive = _zip(tmp_path / "many.zip", [(f"f{i}.txt", b"x") for i in range(12)])
    monkeypatch.setenv("OPTIMIZER_MAX_ARCHIVE_FILES", "10")
    with open_zip(archive) as zf, pytest.raises(TooLarge, match="12 entries.*limit of 10"):
        check_zip(zf)
    monkeypatch.delenv("OPTIMIZER_MAX_ARCHIVE_FILES")
    big = _zip(tmp_path / "big.zip", [("a.bin", np.random.default_rng(0).bytes(2 << 20))])
    monkeypatch.setenv("OPTIMIZER_MAX_EXTRACT_MB", "1")
    with open_zip(big) as zf, pytest.raises(TooLarge, match="over the 1 MB limit"):
        check_zip(zf)


def test_duplicate_and_encrypted_entries_are_refused(tmp_path):
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", b"1")
        with pytest.warns(UserWarning):
            zf.writestr("a.txt", b"2")
    with open_zip(archive) as zf, pytest.raises(UnsafeArchive, match="twice"):
        check_zip(zf)
    encrypted = _zip(tmp_path / "enc.zip", [("a.txt", b"1")])
    raw = bytearray(encrypted.read_bytes())
    raw[6] |= 0x1                                    # local header: "encrypted" flag
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 8] |= 0x1                          # central directory entry too
    encrypted.write_bytes(bytes(raw))
    with open_zip(encrypted) as zf, pytest.raises(UnsafeArchive, match="encrypted"):
        check_zip(zf)


def test_a_header_that_understates_the_size_cannot_overrun(tmp_path):
    """A crafted header claims 10 bytes for an entry that unpacks to 1 MB."""
    archive = _zip(tmp_path / "liar.zip", [("a.bin", bytes(1024 * 1024))])
    with open_zip(archive) as zf:
        info = zf.infolist()[0]
        info.file_size = 10                          # what a lying central directory says
        with pytest.raises((UnsafeArchive, UnreadableFile)):
            read_member(zf, info, max_bytes=1 << 30)


def test_not_a_zip_is_one_line(tmp_path):
    path = tmp_path / "x.zip"
    path.write_text("hello")
    with pytest.raises(UnreadableFile, match="not a valid zip") as info:
        open_zip(path)
    assert "\n" not in str(info.value)


def test_limits_come_from_the_environment(monkeypatch):
    assert limits().max_upload_mb == 200
    monkeypatch.setenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", "50")
    assert limits().max_upload_mb == 50            # Streamlit's own setting is honoured
    monkeypatch.setenv("OPTIMIZER_MAX_UPLOAD_MB", "20")
    assert limits().max_upload_mb == 20            # ours wins
    monkeypatch.setenv("OPTIMIZER_MAX_IMAGES", "many")
    with pytest.raises(ValueError, match="OPTIMIZER_MAX_IMAGES"):
        limits()


def test_streamlit_upload_limit_matches_the_library_default():
    from pathlib import Path

    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" /
                            "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == limits().max_upload_mb
