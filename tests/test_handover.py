"""The hand-over report (optimizer.report.handover) and ``python -m optimizer report``, on a
hand-written run folder: every section, the insights of the run's JSON, no network reference,
escaped user strings and no server path."""
from __future__ import annotations

import html
import re
import subprocess
import sys

import pytest
from chart_labels import check_labels_on_their_points, markers_of, report_figures
from fake_runs import digits_rows, write_run

from optimizer import AccuracyGoal, Answers, Goals, Result
from optimizer.report import stored_insights
from optimizer.report.handover import report_html, scrub_paths


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    rows = digits_rows()
    rows.append(Result.failed("pruning", f"the job failed (log: "
                                         f"{tmp_path_factory.getbasetemp()}/job-2.log)",
                              model="digits-cnn"))
    rows[0].model = "<script>alert(1)</script>"
    return write_run(tmp_path_factory.mktemp("handover") / "run-7", rows,
                     answers=Answers(data="labelled", effort="thorough"),
                     goals=Goals(accuracy=AccuracyGoal(max_drop=0.01)))


@pytest.fixture(scope="module")
def text(run_dir):
    return report_html(run_dir)


def test_every_section_and_the_same_insights(text, run_dir):
    for heading in ("Model", "Recommendation", "Results", "Charts", "Insights",
                    "How it was measured", "Reproduce"):
        assert f"<h2>{heading}</h2>" in text
    assert "Able to re-train the model?" in text and "<code>qat</code>" in text
    for note in stored_insights(run_dir):
        assert html.escape(scrub_paths(note.message)) in text
    assert text.count("Save PNG (for slides)") == 3
    assert "python -m optimizer run --model digits-cnn --technique qat" in text
    assert "version: tensorflow" in text and "test host (2 cores)" in text


def test_every_chart_labels_its_own_points(text):
    figures = report_figures(text)
    assert [f["id"] for f in figures] == ["chart-acc-size", "chart-acc-latency", "chart-sizes"]
    for fig in figures[:2]:
        assert set(markers_of(fig)) == {"float32", "qat", "float16", "dynamic_range", "integer"}
        assert check_labels_on_their_points(fig) == []


def test_self_contained_escaped_and_no_server_path(text, tmp_path_factory):
    assert not re.search(r"<script[^>]+src=", text)              # plotly.js is inlined
    assert not re.search(r"<link[^>]+href=", text) and "@import" not in text
    assert not re.search(r"<img[^>]+src=['\"]?https?:", text)
    assert "<script>alert(1)</script>" not in text.split("<h2>Charts</h2>")[0]
    assert str(tmp_path_factory.getbasetemp()) not in text
    assert "log: job-2.log" in text


def test_in_plain_words_goals_answers_readiness_and_intervals(text, run_dir):
    goals = text.split("<h2>Goals</h2>")[1].split("<h2>")[0]
    assert "judged by the goals it was run with" in goals
    assert "<li>accuracy at most 1 point below float32</li>" in goals
    assert '"target"' not in goals and "null" not in goals         # no raw JSON
    answers = text.split("Your answers, as the guide's questions")[1].split("<h3>")[0]
    assert "Target hardware: <b>CPU</b>" in answers
    assert "<td>Able to re-train the model?</td><td>Yes</td>" in answers
    assert "can_retrain" not in text                             # no internal keys
    assert "98.222 % (96.5–99.1)" in text and "-0.444 (p = 0.50)" in text
    assert "Readiness for CPU was not checked for this run" in text


def test_readiness_per_variant_when_it_was_checked(tmp_path):
    import json

    from optimizer.measuring.readiness.registry import target_check
    from optimizer.runs.readiness import cache_key

    copy = write_run(tmp_path / "checked", answers=Answers(data="labelled", effort="thorough"),
                     goals=Goals(accuracy=AccuracyGoal(max_drop=0.01)))
    for spec in ("float32", "qat"):
        folder = copy / spec / "readiness"
        folder.mkdir(parents=True)
        (folder / cache_key("cpu", data="digits-cnn")).write_text(json.dumps(
            {"target": "cpu", "method": "interpreted", "ready": True,
             "summary": "Runs on the CPU with XNNPACK.",
             "checked_with": target_check("cpu").fingerprint()}))
    text = report_html(copy)
    ready = text.split("<h2>Ready for the target</h2>")[1].split("<h2>")[0]
    assert ready.count("ready (interpreted)") == 2 and "Runs on the CPU with XNNPACK." in ready


def test_cli_finds_a_run_and_refuses_an_empty_one(run_dir, tmp_path):
    out = tmp_path / "r.html"
    done = subprocess.run([sys.executable, "-m", "optimizer", "report", str(run_dir), "--out",
                           str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("<!DOCTYPE html>")
    empty = subprocess.run([sys.executable, "-m", "optimizer", "report", str(tmp_path),
                            "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert empty.returncode == 2 and empty.stderr.startswith("error: no run with results")
