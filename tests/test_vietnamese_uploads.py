"""Upload errors and notes in the reader's language: the checking process sends its error as
data (message id and values), the app writes it in Vietnamese; notes recorded in the manifest
as data are shown in Vietnamese; the command line and the manifest's text stay English."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from vietnamese_text import english_words

from optimizer.models.uploads import UnreadableFile, run_check
from optimizer.models.uploads.prepare import PreparedUpload
from optimizer.text import msg, render, use_language

ROOT = Path(__file__).resolve().parents[1]


def test_the_check_command_sends_its_error_as_a_message_and_stays_english(tmp_path):
    model = tmp_path / "model.txt"
    model.write_text("not a model")
    proc = subprocess.run([sys.executable, "-m", "optimizer", "check", "--model", str(model),
                           "--json", "-"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    assert doc["error"].startswith("unsupported model file 'model.txt'")
    assert doc["message"]["params"] == {"name": "model.txt"}
    vietnamese = render(doc["message"], "vi")
    assert vietnamese.startswith("tệp mô hình 'model.txt' không được hỗ trợ")
    assert english_words(vietnamese) == []
    assert "error: unsupported model file" in proc.stderr      # the CLI's line: English


def test_an_error_from_the_checking_process_is_shown_in_the_readers_language(tmp_path):
    empty = tmp_path / "model.h5"
    empty.write_bytes(b"")
    try:
        run_check(empty, None, tmp_path / "work")
    except UnreadableFile as exc:
        error = exc
    assert str(error) == "the model file model.h5 is empty (0 bytes); upload the file again"
    # nested messages ("model file" inside "{what} {name}") travel as data too
    assert error.message.render("vi") == "tệp mô hình model.h5 trống (0 byte); hãy tải tệp lên lại"
    with use_language("vi"):
        from pages.common.layout import message_of

        assert message_of(error) == "tệp mô hình model.h5 trống (0 byte); hãy tải tệp lên lại"
    assert message_of(error) == str(error)


def test_recorded_notes_are_shown_in_the_readers_language_and_older_ones_as_recorded(tmp_path):
    note = msg("{count} images decoded (no class folders: unlabelled samples)", count="1,024")
    upload = PreparedUpload(manifest_path=str(tmp_path / "upload.json"), name="m", title="m.h5",
                            flavor="tf_keras", source="keras", artifact="m.h5", sha256="0",
                            signature={}, notes=[str(note), "an older note"],
                            retrain_blocker="no Keras model",
                            messages={"notes": [note.to_dict(), None],
                                      "retrain_blocker": None})
    with use_language("vi"):
        assert upload.shown("notes") == [
            "đã giải mã 1,024 ảnh (không có thư mục theo lớp: mẫu không nhãn)", "an older note"]
        assert upload.shown("retrain_blocker") == ["no Keras model"]
        assert upload.shown("warnings") == []
    assert upload.shown("notes") == [str(note), "an older note"]
