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
from optimizer.report import stored_insights

ANSWERS = Answers(data="labelled", can_retrain=True, size_goal="4x", effort="thorough")


def _texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "success", "warning", "info",
                                               "caption") for e in getattr(at, kind))


def _session_run(sid: str) -> Path:
    root = Path(os.environ["OPTIMIZER_WORKSPACE"]) / "sessions" / sid / "runs" / "20260101-000000"
    return write_run(root, answers=ANSWERS, goals=Goals(accuracy=AccuracyGoal(max_drop=0.01)))


def test_results_page_shows_the_json_insights_and_the_disagreement():
    run_dir = _session_run("apptest-insights")
    notes = stored_insights(run_dir)
    at = goto(new_app(session_id="apptest-insights", run_dir=str(run_dir), answers=ANSWERS),
              "pages/results.py")
    assert not at.exception, at.exception
    text = _texts(at)
    assert "disagree with the guide's recommendation" in text
    contra = [n for n in notes if n.kind == "guide_contradicted"]
    assert contra and all(n.message in text for n in contra)
    assert all(n.message in text for n in notes if n.kind in ("faster", "slower",
                                                                "not_meaningful"))
    table = at.dataframe[0].value.set_index("Technique")
    assert table.loc["integer", "Latency median"] == "1.20 µs"
    key = next(h.proto.body for h in at.get("html") if "key-table" in h.proto.body)
    heads = ["Technique", "Goals", "Accuracy (%)", "Δ (points)", "Size", "x smaller",
             "Latency", "p10–p90"]                 # the compact key columns, as text
    assert "".join(f"<th>{h}</th>" for h in heads) in key
    assert "<td>qat</td><td>✓ met</td><td>97.8</td><td>-0.440</td><td>31.0 kB</td>" in key
    assert any(b.label == "Download report" for b in at.get("download_button"))


def test_recommendation_page_says_what_the_measurements_showed():
    run_dir = _session_run("apptest-insights-rec")
    at = goto(new_app(session_id="apptest-insights-rec", run_dir=str(run_dir), answers=ANSWERS,
                      situation_confirmed=True), "pages/recommendation.py")
    assert not at.exception, at.exception
    warning = next(w.value for w in at.warning if "disagree with the guide" in w.value)
    assert "lost more accuracy than dynamic_range" in warning


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
