"""Readiness verdicts in the reader's language: every check's summary and op reasons are
messages kept as data through the check's process and its cache, written in Vietnamese for a
Vietnamese page and in English on the command line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_tflite import tiny_tflite
from vietnamese_text import english_words

from optimizer.measuring.readiness.report import Readiness, shown_reasons, shown_summary
from optimizer.text import use_language

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.cost(20)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("vi") / "tiny.tflite"
    path.write_bytes(tiny_tflite(("ADD", "MUL")))
    return path


@pytest.mark.parametrize("target", ["cpu", "gpu", "edgetpu", "mcu", "npu-qualcomm"])
def test_a_verdict_from_the_checking_process_reads_in_vietnamese(model, target):
    done = subprocess.run([sys.executable, "-m", "optimizer", "readiness", "--model",
                           str(model), "--target", target, "--json", "-", "--messages"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode in (0, 2), done.stderr[-2000:]
    if done.returncode == 2:        # an optional check's tools are missing: said in one line
        assert "error:" in done.stderr
        return
    verdict = json.loads(done.stdout)
    english = shown_summary(verdict)
    with use_language("vi"):
        summary, reasons = shown_summary(verdict), shown_reasons(verdict)
    assert summary != english and english == verdict["summary"]
    words = english_words(" ".join([summary, *[r for r in reasons if r]]))
    assert words == [], (summary, reasons)
    # the cache's form comes back as the same verdict, its summary a message again
    again = Readiness.from_dict(verdict)
    assert again.summary == verdict["summary"]
    with use_language("vi"):
        assert again.summary.render() == summary


def test_the_command_lines_json_is_unchanged_without_the_flag(model):
    done = subprocess.run([sys.executable, "-m", "optimizer", "readiness", "--model",
                           str(model), "--target", "gpu", "--json", "-"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert list(json.loads(done.stdout)) == ["target", "method", "ready", "summary", "ops",
                                             "memory", "accuracy"]
