"""AppTest on a real run: the Run page shows it, the Results page reads it, sessions are
isolated, and a running run can be cancelled. Slow: the engine converts and times models."""
from __future__ import annotations

import json
import time

import pytest
from app_helpers import RUN_SPECS, button, goto, new_app
from chart_labels import check_labels_on_their_points, markers_of, report_figures

from optimizer import (
    AccuracyGoal,
    Goals,
    LatencyGoal,
    read_recipe,
    read_run,
    reproduce_from_recipe,
)
from optimizer.report import fmt_ms

pytestmark = [pytest.mark.slow, pytest.mark.cost(25)]


def _chart(at, key):
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key) or
                 key in c.proto.id)
    return json.loads(chart.proto.spec)


def test_run_page_shows_the_finished_run(finished_run):
    sid, run_dir = finished_run
    at = goto(new_app(session_id=sid, run_dir=str(run_dir)), "pages/run.py")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["Technique"]) == ["float32", *RUN_SPECS]
    assert set(table["State"]) == {"✓ done"} and set(table["Progress"]) == {1.0}
    preview = _chart(at, "run_preview")
    names = [t.get("name") for t in preview["data"]]
    assert "float32 (baseline)" in names and "dynamic_range" in names
    button(at, "See the full results").click().run()
    assert at.title[0].value == "Results"


def test_results_page_reads_what_the_engine_measured(finished_run):
    sid, run_dir = finished_run
    measured = {r.technique: r for r in read_run(run_dir).results}
    at = goto(new_app(session_id=sid, run_dir=str(run_dir)), "pages/results.py")
    assert not at.exception, at.exception
    table = at.dataframe[0].value.set_index("Technique")
    for spec in ["float32", *RUN_SPECS]:
        r = measured[spec]
        # rounded as optimizer.numbers writes them: the decimals one test sample needs, and
        # three significant figures
        assert table.loc[spec, "Accuracy (%)"] == pytest.approx(100 * r.accuracy, abs=5e-4)
        assert table.loc[spec, "Size (kB)"] == pytest.approx(r.size_bytes / 1e3, rel=5e-3)
        assert table.loc[spec, "Latency median"] == fmt_ms(r.latency_ms_median)
    assert table.loc["float32", "Goals"] == "baseline"
    assert table.loc["dynamic_range", "Goals"] in {"✓ met", "✗ missed"}
    keys = [c.proto.id for c in at.get("plotly_chart")]
    assert len(keys) == 3
    acc_size = _chart(at, "chart_acc_size")
    # the size its goals judge (no size goal: on disk), as the "best" line names it
    assert "on disk" in acc_size["layout"]["xaxis"]["title"]["text"]
    assert any(s.get("type") == "line" for s in acc_size["layout"]["shapes"])   # budget line
    downloads = at.get("download_button")
    assert len(downloads) >= len(RUN_SPECS) + 2          # zips, CSV, reproduce script
    # the script shown is written from the picked result's own recipe.json
    pick = at.selectbox(key="dl_reproduce_pick").value
    script = reproduce_from_recipe(read_recipe(measured[pick].recipe_path))
    assert f"Reproduce '{pick}'" in script
    assert script.strip() in [c.value.strip() for c in at.code]
    at.segmented_control(key="results_size_view").set_value("gzip").run()
    assert "gzip" in _chart(at, "chart_acc_size")["layout"]["xaxis"]["title"]["text"]


def test_every_chart_of_the_run_labels_its_own_points(finished_run):
    """The Results page's figures (both size views), the Run page's preview and the report's
    figures of a real run: each name in a label has its marker at the label's anchor."""
    from optimizer.report.handover import report_html

    sid, run_dir = finished_run
    at = goto(new_app(session_id=sid, run_dir=str(run_dir)), "pages/results.py")
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    at.segmented_control(key="results_size_view").set_value("gzip").run()   # the other view
    figures.append(_chart(at, "chart_acc_size"))
    figures.append(_chart(goto(new_app(session_id=sid, run_dir=str(run_dir)), "pages/run.py"),
                          "run_preview"))
    figures += report_figures(report_html(run_dir))
    assert len(figures) == 3 + 1 + 1 + 3
    scatter = [f for f in figures if markers_of(f)]
    assert len(scatter) == 6                       # every figure but the two size bar charts
    for fig in scatter:
        assert set(markers_of(fig)) == {"float32", *RUN_SPECS}
        assert check_labels_on_their_points(fig) == [], fig["layout"]["title"]["text"]


def test_no_table_of_the_run_shows_none(finished_run):
    """Missing values (readiness not checked yet: no arena, no flash) read "–", never
    "None": every data grid of the run's pages has its placeholder, every table its text."""
    sid, run_dir = finished_run
    for script in ("pages/results.py", "pages/run.py", "pages/my_runs.py"):
        at = goto(new_app(session_id=sid, run_dir=str(run_dir)), script)
        assert at.dataframe, script
        for grid in at.dataframe:
            assert grid.proto.placeholder == "–", (script, list(grid.value.columns))
        for table in at.table:
            assert not table.value.isin(["None"]).any().any(), script
    at = goto(new_app(session_id=sid, run_dir=str(run_dir)), "pages/results.py")
    ready = next(d.value for d in at.dataframe if "Arena (kB)" in d.value.columns)
    assert ready["Arena (kB)"].isna().all()            # not checked: shown as the placeholder


def test_the_runs_goals_decide_the_verdicts_and_others_can_be_tried(finished_run):
    sid, run_dir = finished_run
    strict = Goals(accuracy=AccuracyGoal(max_drop=0.5), latency=LatencyGoal(max_ms=1e-6))
    # the session's goals changed since: the run is still judged by the goals it was run with
    at = goto(new_app(session_id=sid, run_dir=str(run_dir), goals=strict), "pages/results.py")
    table = at.dataframe[0].value.set_index("Technique")
    assert "✗ missed" not in set(table.loc[RUN_SPECS, "Goals"])
    at.toggle(key="results_goals_on").set_value(True).run()
    at.number_input(key="results_goals_latency").set_value(1e-6).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value.set_index("Technique")
    assert set(table.loc[RUN_SPECS, "Goals"]) == {"✗ missed"}   # nothing runs in 1 ns


def test_another_session_never_sees_the_run(finished_run):
    at = goto(new_app(session_id="someone-else"), "pages/results.py")
    assert any("No results yet" in i.value for i in at.info)


def test_a_running_run_can_be_cancelled():
    at = new_app(session_id="apptest-cancel", run_specs=["qat"])
    goto(at, "pages/run.py")
    button(at, "Start the run").click().run()
    run_dir = at.session_state["run_dir"]
    deadline = time.time() + 120
    while read_run(run_dir).status == "queued" and time.time() < deadline:
        time.sleep(0.5)
    at.run()
    button(at, "Cancel the run").click().run()
    state = read_run(run_dir)
    assert state.status == "cancelled"
    assert not at.exception
    assert any(p.state in ("cancelled", "done") for p in state.progress.values())
