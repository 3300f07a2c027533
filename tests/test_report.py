"""Figures, table, notes, goal checks and downloads of optimizer.report, on hand-built rows.

The Result rows below are test data shaped like a digits-cnn run; they are never shown in the
app as measurements.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest

from optimizer import AccuracyGoal, Goals, LatencyGoal, Result, SizeGoal, results_frame
from optimizer.report import charts, downloads, judge, pareto, style, table
from optimizer.report.tree_chart import tree_figure


def _r(technique, size, gz, acc, median, p10=None, p90=None, **kw):
    return Result(technique=technique, model="digits-cnn", size_bytes=size, gzip_bytes=gz,
                  accuracy=acc, accuracy_delta=None, latency_ms_median=median,
                  latency_ms_p10=p10 if p10 is not None else median * 0.9,
                  latency_ms_p90=p90 if p90 is not None else median * 1.1,
                  latency_threads=1, latency_kernels="XNNPACK", measured_on="test host", **kw)


@pytest.fixture()
def results():
    rows = [
        _r("float32", 156_000, 140_000, 0.982, 0.010, input_dtype="float32",
           output_dtype="float32", engine="tflite-converter"),
        _r("float16", 80_000, 72_000, 0.982, 0.011),
        _r("dynamic_range", 45_000, 41_000, 0.980, 0.006),
        _r("integer", 45_700, 40_200, 0.978, 0.012, input_dtype="float32",
           output_dtype="float32"),
        _r("int16x8", 47_400, 41_400, 0.982, 0.220,
           latency_note="int16x8 runs on reference kernels"),
        _r("pruning", 156_000, 85_000, 0.971, 0.010, sparsity=0.5, transformed_layers=3,
           weight_layers=4, transformed_weight_fraction=0.75),
        _r("clustering+integer", 45_700, 28_000, 0.960, 0.009, p10=0.004, p90=0.020),
        Result.failed("qat", "QAT needs labelled training data; upload x_train/y_train",
                      model="digits-cnn"),
    ]
    base = rows[0].accuracy
    for r in rows:
        if r.accuracy is not None:
            r.accuracy_delta = r.accuracy - base
    return rows


@pytest.fixture()
def frame(results):
    return results_frame(results)


# --- style -----------------------------------------------------------------------------------

def test_colours_follow_the_training_family_and_symbols_the_format():
    assert style.technique_color("pruning+dynamic_range") == style.technique_color("pruning")
    assert style.technique_color("pruning") != style.technique_color("clustering")
    assert style.technique_symbol("pruning+dynamic_range") == style.technique_symbol("dynamic_range")
    assert style.technique_symbol("qat") == style.technique_symbol("integer")
    assert style.technique_color("pruning+clustering") != style.technique_color("pruning")
    with pytest.raises(ValueError, match="unknown technique 'no-such-thing'"):
        style.technique_color("no-such-thing")    # never another technique's look
    assert style.technique_symbol("integer[keep-float]") == style.technique_symbol("integer")
    assert style.technique_color("pruning[sparsity=0.5]") == style.technique_color("pruning")


def test_size_unit_and_metric_axis():
    assert style.size_unit(156_000) == (1e3, "kB")
    assert style.size_unit(13_900_000) == (1e6, "MB")
    assert style.metric_axis("accuracy")[1:] == (100.0, "%")
    assert "RMSE" in style.metric_axis("rmse")[0]


# --- pareto ----------------------------------------------------------------------------------

def test_pareto_front_keeps_only_undominated_ok_rows(frame):
    front = pareto.frame_front(frame, {"gzip_bytes": "min", "accuracy": "max"})
    techs = list(frame.loc[front, "technique"])
    # clustering+integer is smallest; integer beats dynamic_range on gzip but not on accuracy
    assert techs[0] == "clustering+integer"
    assert "float32" not in techs and "float16" not in techs   # int16x8 dominates them
    assert "int16x8" in techs
    assert "qat" not in techs                                   # failed rows never count
    with pytest.raises(ValueError, match="min' or 'max"):
        pareto.frame_front(frame, {"accuracy": "up"})


# --- charts ----------------------------------------------------------------------------------

def _names(fig):
    return [t.name for t in fig.data]


def test_accuracy_size_figure_has_points_front_budget_and_units(frame):
    fig = charts.accuracy_size_figure(frame, size="gzip", budget=0.972)
    names = _names(fig)
    assert "Pareto front" in names
    assert "float32 (baseline)" in names and "qat" not in names
    assert "(kB)" in fig.layout.xaxis.title.text and "(%)" in fig.layout.yaxis.title.text
    budget = [s for s in fig.layout.shapes if s.type == "line"]
    assert budget and budget[0].y0 == pytest.approx(97.2)
    point = next(t for t in fig.data if t.name == "dynamic_range")
    assert point.x[0] == pytest.approx(41.0) and point.y[0] == pytest.approx(98.0)
    assert point.marker.color == style.technique_color("dynamic_range")
    raw = charts.accuracy_size_figure(frame, size="raw")
    assert next(t for t in raw.data if t.name == "dynamic_range").x[0] == pytest.approx(45.0)
    with pytest.raises(ValueError):
        charts.accuracy_size_figure(frame, size="zip")


def test_accuracy_latency_figure_has_asymmetric_spread_and_log_axis(frame):
    fig = charts.accuracy_latency_figure(frame)
    point = next(t for t in fig.data if t.name == "clustering+integer")
    assert point.error_x.array[0] == pytest.approx(0.011)
    assert point.error_x.arrayminus[0] == pytest.approx(0.005)
    assert fig.layout.xaxis.type == "log"       # int16x8 is 20x slower than the rest
    assert "Latency" in fig.layout.xaxis.title.text
    # ticks carry their unit and read 1-2-5 (not plotly's "2 5 1 2 5"); µs below 0.1 ms
    assert list(fig.layout.xaxis.ticktext) == ["5 µs", "10 µs", "20 µs", "50 µs", "0.1 ms",
                                               "0.2 ms"]
    assert list(fig.layout.xaxis.tickvals) == pytest.approx([0.005, 0.01, 0.02, 0.05, 0.1, 0.2])


def test_size_bars_show_raw_and_gzip_with_factors(frame):
    fig = charts.size_bars_figure(frame)
    assert _names(fig) == ["On disk", "gzip -9 (download size)"]
    raw, gz = fig.data
    assert list(raw.x) == [t for t in frame["technique"] if t != "qat"]
    assert raw.text[0] == ""                       # the baseline has no factor
    assert gz.text[list(gz.x).index("pruning")] == "1.65x"       # three figures, as everywhere
    assert "kB" in fig.layout.yaxis.title.text


def test_charts_without_measurements_say_so():
    empty = results_frame([Result.failed("float32", "conversion failed")])
    for fig in (charts.accuracy_size_figure(empty), charts.accuracy_latency_figure(empty),
                charts.size_bars_figure(empty)):
        assert fig.layout.annotations and "No" in fig.layout.annotations[0].text


# --- table -----------------------------------------------------------------------------------

def test_results_table_columns_units_and_goal_cells(frame, results):
    goals = Goals(accuracy=AccuracyGoal(max_drop=0.01))
    checks = judge.goal_checks(results, goals)
    t = table.results_table(frame, checks)
    assert "Accuracy (%)" in t.columns and "Size (kB)" in t.columns
    row = t.set_index("Technique")
    assert row.loc["float32", "Goals"] == "baseline"
    assert row.loc["dynamic_range", "Goals"] == "✓ met"
    assert row.loc["clustering+integer", "Goals"] == "✗ missed"
    assert row.loc["dynamic_range", "Δ vs float32 (points)"] == pytest.approx(-0.2)
    assert row.loc["dynamic_range", "Size: x smaller"] == 3.47       # 156 / 45, three figures
    assert row.loc["pruning", "Sparsity (%)"] == pytest.approx(50.0)
    assert row.loc["pruning", "Transformed layers"] == "3 of 4"
    assert row.loc["pruning", "Weights transformed (%)"] == pytest.approx(75.0)
    assert row.loc["float32", "Transformed layers"] == ""
    assert row.loc["float32", "I/O dtypes"] == "float32 → float32"
    assert row.loc["qat", "Note"].startswith("QAT needs")
    assert row.loc["int16x8", "Latency p10–p90"] == "0.198–0.242 ms"
    assert row.loc["dynamic_range", "Latency median"] == "6.00 µs"
    assert list(t.columns[:len(table.KEY_COLUMNS)]) == [
        c.replace("Accuracy", "Accuracy (%)") for c in table.KEY_COLUMNS]


# --- goals -----------------------------------------------------------------------------------

def test_goal_checks_and_budget(results):
    goals = Goals(accuracy=AccuracyGoal(max_drop=0.01), size=SizeGoal(max_ratio=0.5),
                  latency=LatencyGoal(max_ms=0.05))
    checks = judge.goal_checks(results, goals)
    assert set(checks) == {r.technique for r in results} - {"float32"}
    assert checks["dynamic_range"].met
    assert not checks["float16"].met                     # 80k/156k > 0.5: missed
    assert not checks["int16x8"].met                     # latency 0.22 ms > 0.05
    assert not checks["qat"].met                         # failed: never "met"
    assert judge.accuracy_budget(results, goals) == pytest.approx(0.972)
    rel = Goals(accuracy=AccuracyGoal(max_drop=0.02, relative=True))
    assert judge.accuracy_budget(results, rel) == pytest.approx(0.982 * 0.98)
    assert judge.goal_checks(results[1:], goals) == {}   # no baseline, nothing to judge


# --- tree figure -----------------------------------------------------------------------------

def test_tree_figure_draws_every_box_edge_and_highlights_the_path():
    from optimizer import QUANT_TREE, Answers, recommend

    rec = recommend(Answers(data="unlabelled", effort="thorough", accuracy="high"))
    fig = tree_figure(QUANT_TREE, path=rec.path, leaf=rec.leaf)
    boxes = [s for s in fig.layout.shapes if s.type == "path"]
    assert len(boxes) == len(QUANT_TREE.nodes)
    def plain(text):
        return "".join(text.replace("<br>", "").replace("<b>", "").replace("</b>", "").split())

    texts = {plain(a.text) for a in fig.layout.annotations}
    for node in QUANT_TREE.nodes:            # every box shows the guide's exact wording
        assert plain(node.text) in texts
    labels = [a.text for a in fig.layout.annotations if a.text in ("<b>Y</b>", "<b>N</b>")]
    assert len(labels) == len(QUANT_TREE.edges)
    bold = [a for a in fig.layout.annotations if a.arrowwidth and a.arrowwidth > 3]
    assert len(bold) == len(rec.path)      # one highlighted arrow per answer
    filled = [s for s in boxes if not s.fillcolor.startswith("rgba")]
    assert len(filled) == len(rec.path) + 1    # the questions asked and the leaf


# --- downloads -------------------------------------------------------------------------------

def test_downloads_zip_and_csv(tmp_path, frame, results):
    tfl = tmp_path / "model.tflite"
    tfl.write_bytes(b"TFL3fake")
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"technique": "integer"}))
    r = results[3]
    r.tflite_path, r.recipe_path = str(tfl), str(recipe)
    data = downloads.technique_zip(r, extra={"reproduce.py": "print(1)"})
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == ["digits-cnn-integer/model.tflite", "digits-cnn-integer/recipe.json",
                     "digits-cnn-integer/result.json", "digits-cnn-integer/reproduce.py"]
    assert downloads.technique_zip(results[-1]) is None
    csv = downloads.results_csv(frame).decode()
    assert csv.splitlines()[0].startswith("technique,") and "dynamic_range" in csv
    # every dict or list cell is JSON (readiness, intervals, ...), never a Python repr
    import csv as csv_module

    checked = [Result("float32", size_bytes=10, gzip_bytes=9, accuracy=0.9,
                      accuracy_ci=[0.8, 0.95], readiness={"target": "mcu", "ready": True,
                                                          "method": "interpreted",
                                                          "summary": "Ready"})]
    rows = list(csv_module.DictReader(io.StringIO(
        downloads.results_csv(results_frame(checked)).decode())))
    assert json.loads(rows[0]["readiness"])["ready"] is True
    assert json.loads(rows[0]["accuracy_ci"]) == [0.8, 0.95]
    assert "'" not in rows[0]["readiness"] and "True" not in rows[0]["readiness"]
    assert downloads.safe_name("a/b c+d") == "a-b-c+d"


def test_published_figures_are_labelled_as_published():
    from optimizer.report import PUBLISHED_SOURCE, published_table

    t = published_table()
    assert len(t) == 4 and "Pixel 2" in PUBLISHED_SOURCE and "published" in PUBLISHED_SOURCE
    assert all("Pixel 2" in c for c in t.columns if c.startswith("Latency"))
    assert t.set_index("Model").loc["Mobilenet-v2-1-224", "Latency QAT (ms, Pixel 2)"] == 54


def test_report_package_imports_no_streamlit_or_tensorflow():
    code = ("import sys, optimizer.report as r; r.accuracy_size_figure; r.tree_figure; "
            "r.result_insights; r.results_table; "
            "print('streamlit' in sys.modules, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_int8_slower_names_the_ops_outside_xnnpack(results):
    from optimizer.report import insights

    base = next(r for r in results if r.technique == "float32")
    slow = next(r for r in results if r.technique == "integer")
    top = base.latency_ms_p90 or base.latency_ms_median
    slow.latency_ms_p10, slow.latency_ms_median, slow.latency_ms_p90 = 2 * top, 2.2 * top, 2.4 * top
    slow.latency_note = "int8 ops left to builtin kernels, outside XNNPACK: HARD_SWISH x19"
    notes = insights.result_insights(results)
    text = next(n.text for n in notes if n.kind == "slower" and n.technique == "integer")
    assert "HARD_SWISH x19" in text and "builtin kernels" in text
