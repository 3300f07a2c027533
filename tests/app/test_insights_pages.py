"""AppTest: the Results and Recommendation pages show the run's insights (the same list as the
JSON), say whether the measurements agreed with the guide, and the Edge-TPU-without-data case
no longer pretends a leaf was chosen (fix 6). Runs are hand-written folders: no TensorFlow."""
from __future__ import annotations

import json
import os
from pathlib import Path

from app_helpers import goto, new_app
from fake_runs import write_run

from optimizer import AccuracyGoal, Answers, Goals, recommend
from optimizer.report import run_verdict

ANSWERS = Answers(data="labelled", can_retrain=True, size_goal="4x", effort="thorough")


def _texts(at) -> str:
    """Every text element, with the Markdown escapes of user strings taken out."""
    return "\n".join(str(e.value) for kind in ("markdown", "success", "warning", "info",
                                               "caption") for e in getattr(at, kind)) \
        .replace("\\", "")


def _session_run(sid: str, goals=None, **kw) -> Path:
    root = Path(os.environ["OPTIMIZER_WORKSPACE"]) / "sessions" / sid / "runs" / "20260101-000000"
    return write_run(root, answers=ANSWERS,
                     goals=goals or Goals(accuracy=AccuracyGoal(max_drop=0.01)), **kw)


def test_results_page_shows_the_runs_verdict_and_the_disagreement():
    run_dir = _session_run("apptest-insights")
    verdict = run_verdict(run_dir)
    at = goto(new_app(session_id="apptest-insights", run_dir=str(run_dir), answers=ANSWERS),
              "pages/results.py")
    assert not at.exception, at.exception
    text = _texts(at)
    assert "Judged by the goals it was run with: accuracy at most 1 point below float32" in text
    assert "disagree with the guide's recommendation" in text
    contra = [n for n in verdict.insights if n.kind == "guide_contradicted"]
    assert contra and all(n.message in text for n in contra)
    assert all(n.message in text for n in verdict.insights
               if n.kind in ("faster", "slower", "not_meaningful", "within_noise", "best"))
    # qat lost 2 of 450 samples: not a measured difference, said in plain words
    assert "2 of 450 test samples differ, p = 0.5" in text and "no measurable" in text
    assert "lost more accuracy" not in text
    table = at.dataframe[0].value.set_index("Technique")
    assert table.loc["integer", "Latency median"] == "1.20 µs"
    assert table.loc["qat", "Accuracy (%)"] == 97.778       # the decimals its change needs
    key = next(h.proto.body for h in at.get("html") if "key-table" in h.proto.body)
    heads = ["Technique", "Goals", "Accuracy (%)", "Δ (points)", "Size", "x smaller",
             "Latency", "p10–p90"]                 # the compact key columns, as text
    assert "".join(f"<th>{h}</th>" for h in heads) in key
    assert "<td>qat</td><td>✓ met</td><td>97.778 (96.0–98.8)</td>" in key
    assert "<td>-0.444 (p = 0.50)</td><td>31.0 kB</td>" in key
    assert any(b.label == "Download report" for b in at.get("download_button"))


def test_a_viewer_tries_other_goals_without_changing_the_record():
    run_dir = _session_run("apptest-other-goals")
    request = (run_dir / "request.json").read_text()
    at = goto(new_app(session_id="apptest-other-goals", run_dir=str(run_dir), answers=ANSWERS),
              "pages/results.py")
    at.toggle(key="results_goals_on").set_value(True).run()
    at.number_input(key="results_goals_drop").set_value(0.1).run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "Judged by the goals you are trying (the run's own are unchanged)" in text
    key = next(h.proto.body for h in at.get("html") if "key-table" in h.proto.body)
    assert "<td>qat</td><td>≈ within noise</td>" in key      # 0.444 > 0.1, 2 samples
    assert "<td>integer</td><td>≈ within noise</td>" in key
    assert (run_dir / "request.json").read_text() == request


def test_recommendation_page_says_what_the_measurements_showed():
    run_dir = _session_run("apptest-insights-rec")
    at = goto(new_app(session_id="apptest-insights-rec", run_dir=str(run_dir), answers=ANSWERS,
                      situation_confirmed=True), "pages/recommendation.py")
    assert not at.exception, at.exception
    warning = next(w.value for w in at.warning if "disagree with the guide" in w.value)
    assert "dynamic_range is smaller on disk: dynamic_range 27.0 kB vs qat 31.0 kB" in \
        warning.replace("\\", "")


def test_edge_tpu_without_data_highlights_no_leaf_and_offers_no_float_run():
    answers = Answers(data="none", target="edgetpu")
    at = goto(new_app(answers=answers, situation_confirmed=True, run_specs=[]),
              "pages/recommendation.py")
    assert not at.exception, at.exception
    tree = json.loads(at.get("plotly_chart")[0].proto.spec)
    leaves = [s for s in tree["layout"]["shapes"] if s["type"] == "path"
              and not str(s.get("fillcolor", "")).startswith("rgba")]
    path_len = len([m for m in at.markdown if "→" in m.value][0].value.split("  \n")) - 1
    assert len(leaves) == path_len                        # the questions only, no solid leaf
    override = recommend(answers).override
    assert override and _texts(at).count(override) == 1   # said once, not twice
    run = next(b for b in at.button if b.label.startswith("Run the float32"))
    assert run.disabled
