"""``python -m optimizer recommend``: the JSON contract, the seven cpu leaves, the hardware
rules through the CLI, the readable summary, and one-line errors for bad flags."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from optimizer import recommend as _public  # noqa: F401  bind the public name before the CLI
from optimizer.cli import main  # imports the optimizer.recommendation.decide submodule
from optimizer.guide.registry import TechniqueId


def _json(capsys, *flags) -> dict:
    assert main(["recommend", *flags, "--json", "-"]) == 0
    return json.loads(capsys.readouterr().out)


SEVEN = [
    (["--no-optimize"], "float32", ["N"]),
    (["--size-goal", "2x"], "float16", ["Y", "N"]),
    (["--size-goal", "4x", "--effort", "quick"], "dynamic_range", ["Y", "Y", "N"]),
    (["--data", "labelled", "--retrain", "--effort", "thorough"], "qat", ["Y", "Y", "Y", "Y"]),
    (["--data", "none", "--effort", "thorough"], "dynamic_range", ["Y", "Y", "Y", "N", "N"]),
    (["--data", "unlabelled", "--effort", "thorough", "--accuracy", "high"], "int16x8",
     ["Y", "Y", "Y", "N", "Y", "Y"]),
    (["--data", "labelled", "--no-retrain", "--effort", "thorough", "--accuracy", "standard"],
     "integer", ["Y", "Y", "Y", "N", "Y", "N"]),
]


@pytest.mark.parametrize("flags, technique, answers", SEVEN)
def test_seven_cpu_leaves(capsys, flags, technique, answers):
    data = _json(capsys, "--target", "cpu", *flags)
    assert data["technique"] == technique
    assert [step["answer"] for step in data["path"]] == answers
    assert data["path"][0] == {"question": "Optimize model?", "answer": answers[0]}


def test_json_shape(capsys):
    data = _json(capsys, "--data", "unlabelled", "--target", "gpu-android")
    assert {"technique", "path", "alternatives", "excluded"} <= set(data)
    assert all(set(step) == {"question", "answer"} for step in data["path"])
    assert all(set(item) == {"technique", "reason"} for item in data["excluded"])
    assert all(isinstance(a, str) for a in data["alternatives"])
    named = [item["technique"] for item in data["excluded"]] + [data["technique"]]
    assert sorted(named) == sorted(t.value for t in TechniqueId)


@pytest.mark.parametrize("flags, technique, spec", [
    (["--target", "edgetpu", "--data", "none"], None, None),
    (["--target", "edgetpu", "--data", "unlabelled"], "integer_only", "integer_only"),
    (["--target", "mcu", "--data", "labelled", "--no-retrain"], "integer_only", "integer_only"),
    (["--target", "mcu", "--data", "labelled", "--retrain"], "qat", "qat+integer_only"),
    (["--target", "gpu", "--data", "labelled", "--effort", "thorough"], "float16", "float16"),
    (["--target", "gpu-android", "--data", "unlabelled", "--effort", "thorough",
      "--accuracy", "high"], "integer", "integer"),
    (["--target", "edgetpu", "--no-optimize"], "float32", "float32"),
])
def test_hardware_rules_through_the_cli(capsys, flags, technique, spec):
    data = _json(capsys, *flags)
    assert data["technique"] == technique and data["run_spec"] == spec
    if technique is None:
        assert [u["run_spec"] for u in data["unlock"]] == ["integer_only", "qat+integer_only"]


def test_json_to_a_file(tmp_path):
    out = tmp_path / "sub" / "rec.json"
    assert main(["recommend", "--target", "edgetpu", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["technique"] is None


def test_readable_summary(capsys):
    assert main(["recommend", "--target", "edgetpu"]) == 0
    text = capsys.readouterr().out
    assert "nothing runnable with your data" in text
    assert "What would unlock it:" in text and "qat+integer_only" in text
    assert "Q1 Optimize model? Y" in text and "Not chosen:" in text
    assert main(["recommend", "--data", "labelled", "--effort", "thorough"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Recommendation for CPU: qat")
    assert "Alternatives to run for comparison:" in text


@pytest.mark.parametrize("flags, fragment", [
    (["--target", "tpu"], "invalid choice: 'tpu'"),
    (["--data", "some"], "invalid choice: 'some'"),
    (["--size-goal", "3x"], "invalid choice: '3x'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_flags_fail_with_one_line(flags, fragment):
    proc = subprocess.run([sys.executable, "-m", "optimizer", "recommend", *flags, "--json", "-"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert "Traceback" not in proc.stderr


def test_help_documents_the_defaults():
    proc = subprocess.run([sys.executable, "-m", "optimizer", "recommend", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for default in ("(default: none)", "(default: cpu)", "(default: 4x)", "(default: quick)",
                    "(default: standard)", "(default: --retrain)"):
        assert default in " ".join(proc.stdout.split()), default
