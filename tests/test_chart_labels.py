"""Every chart's text labels sit on the points they name (issue 19: "labels on their points").

Each figure is read back (``chart_labels``): every name in a label must have its marker at the
label's anchor (within a few pixels, on the figure's own log or linear axes and ranges), and
every marker must be named by a label or in the legend. The frames are test data: the shapes
the issue reported (a 42 kB point labelled with float16's name, three latency points labelled
at qat's, float32 labelled in the 45 kB cluster over the "best" arrow), points drawn on top of
each other, near points on log axes, and seeded random crowds. The same check runs on a real
run's Results page (tests/app/test_journey.py) and report (tests/test_handover.py).
"""
from __future__ import annotations

import random

import pytest
from chart_labels import check_labels_on_their_points, labels_of, markers_of

from optimizer import Result, results_frame
from optimizer.report import charts, labels
from optimizer.report.compare import compare_figure
from optimizer.report.search_charts import trials_figure
from optimizer.search.explain import SearchOutcome


def _r(technique, size, gz, acc, median, spread=0.05, **kw):
    return Result(technique=technique, model="m", size_bytes=size, gzip_bytes=gz, accuracy=acc,
                  latency_ms_median=median, latency_ms_p10=median * (1 - spread),
                  latency_ms_p90=median * (1 + spread), latency_threads=1, **kw)


#: The digits-cnn shape of the issue: three variants at one latency, two near one size.
ISSUE_ROWS = [_r("float32", 157_000, 145_000, 0.9867, 0.00195),
              _r("float16", 80_000, 72_000, 0.9867, 0.00195),
              _r("dynamic_range", 45_000, 42_000, 0.9867, 0.00195),
              _r("integer", 46_000, 40_000, 0.9844, 0.0013),
              _r("qat", 46_000, 39_500, 0.9889, 0.0013)]


def _all_figures(rows, budget=0.9767):
    frame = results_frame(rows)
    return [charts.accuracy_size_figure(frame, size="gzip", budget=budget),
            charts.accuracy_size_figure(frame, size="raw", budget=budget),
            charts.accuracy_latency_figure(frame, budget=budget),
            compare_figure([("run A", rows), ("run B", rows[:3])])]


def _labelled(fig) -> dict:
    """{name: the names of the label that names it}."""
    return {name: tuple(names) for names, _ in labels_of(fig.to_plotly_json()) for name in names}


@pytest.mark.parametrize("index", range(4))
def test_the_issue_shapes_label_only_their_own_points(index):
    fig = _all_figures(ISSUE_ROWS)[index]
    assert check_labels_on_their_points(fig) == []


def test_float16_keeps_its_own_label_and_coinciding_latencies_share_one():
    frame = results_frame(ISSUE_ROWS)
    size = _labelled(charts.accuracy_size_figure(frame, size="gzip"))
    assert size["float16"] == ("float16",) and size["dynamic_range"] == ("dynamic_range",)
    latency = _labelled(charts.accuracy_latency_figure(frame))
    assert set(latency["float32"]) == {"float32", "float16", "dynamic_range"}
    assert latency["qat"] == ("qat",) and latency["integer"] == ("integer",)


def test_near_points_on_a_log_axis_are_told_apart_in_pixels_not_data_units():
    # 0.010 and 0.0103 ms sit 1.3 px apart on this log axis (0.005 .. 2 ms) but 0.3 ms apart
    # in data units; 1.0 and 1.3 ms are 0.3 ms apart too, yet 13 px apart
    rows = [_r("float32", 100_000, 90_000, 0.95, 1.0, spread=0.4),
            _r("float16", 50_000, 45_000, 0.95, 1.3),
            _r("integer", 25_000, 22_000, 0.95, 0.010),
            _r("dynamic_range", 25_000, 22_000, 0.95, 0.0103)]
    fig = charts.accuracy_latency_figure(results_frame(rows))
    assert fig.layout.xaxis.type == "log"
    assert check_labels_on_their_points(fig) == []
    named = _labelled(fig)
    assert set(named["integer"]) == {"integer", "dynamic_range"}
    assert named["float32"] == ("float32",) and named["float16"] == ("float16",)


def test_a_crowd_gets_leader_lines_or_a_legend_never_a_neighbours_label():
    rows = [_r("float32", 157_000, 145_000, 0.9867, 0.00195)]
    rows += [_r(spec, 45_000 + 300 * i, 40_000 + 300 * i, 0.984 + 0.0004 * i, 0.0013)
             for i, spec in enumerate(("integer", "qat", "dynamic_range", "pruning+integer",
                                       "clustering+integer", "pqat", "cqat", "pcqat",
                                       "qat+integer_only", "pruning+dynamic_range"))]
    for fig in _all_figures(rows, budget=0.97):
        assert check_labels_on_their_points(fig) == [], fig.layout.title.text
    fig = charts.accuracy_size_figure(results_frame(rows), size="gzip")
    leaders = [a for a in fig.layout.annotations if a.name == "label"]
    legend = [t for t in fig.data if t.showlegend]
    assert leaders or legend


def _outcome(trials, best):
    return SearchOutcome(status="finished", trials=trials, pareto=[best], best=best,
                         goal_met=True, explanation="", size_measure="gzip")


def test_the_search_chart_keeps_float32_on_its_point_and_off_the_best_arrow():
    trials = [_r("float32", 157_000, 157_000, 0.9867, 0.002)]
    trials += [_r(spec, 45_000 + 500 * i, 45_000 + 500 * i, 0.985 - 0.001 * i, 0.0013)
               for i, spec in enumerate(("integer", "dynamic_range", "qat", "pruning+integer",
                                         "clustering+integer"))]
    fig = trials_figure(_outcome(trials, "integer"))
    assert check_labels_on_their_points(fig) == []
    assert _labelled(fig)["float32"] == ("float32",)
    best = next(a for a in fig.layout.annotations if a.name == "best")
    assert (best.x, best.y) in markers_of(fig.to_plotly_json())["integer"]


def _random_rows(seed: int, count: int) -> list[Result]:
    rng = random.Random(seed)
    specs = ["float32", "float16", "dynamic_range", "integer", "integer_only", "int16x8", "qat",
             "pruning", "clustering", "pqat", "cqat", "pcqat", "pruning+integer",
             "clustering+dynamic_range", "qat+integer_only"]
    rows = []
    for spec in specs[:count]:
        # clusters: sizes and latencies from a few centres, accuracies close together
        size = rng.choice((150_000, 80_000, 45_000)) * rng.uniform(0.97, 1.03)
        latency = rng.choice((0.002, 0.0013, 0.02, 0.25)) * rng.uniform(0.95, 1.05)
        rows.append(_r(spec, int(size), int(size * 0.9), rng.uniform(0.95, 0.99), latency))
    return rows


@pytest.mark.parametrize("seed", range(12))
def test_random_crowds_on_log_and_linear_axes(seed):
    rows = _random_rows(seed, 5 + seed)
    figures = _all_figures(rows, budget=0.96)
    figures.append(trials_figure(_outcome(rows, rows[-1].technique)))
    for fig in figures:
        assert check_labels_on_their_points(fig) == [], (seed, fig.layout.title.text)


def test_the_checker_catches_a_label_on_someone_elses_point():
    fig = charts.accuracy_size_figure(results_frame(ISSUE_ROWS), size="gzip")
    wrong = next(t for t in fig.data if t.ids and t.ids[0] == "dynamic_range")
    wrong.text = ["dynamic_range, float16"]          # the issue's mislabel
    problems = check_labels_on_their_points(fig)
    assert any("names 'float16'" in p for p in problems), problems
    nameless = charts.accuracy_size_figure(results_frame(ISSUE_ROWS), size="gzip")
    next(t for t in nameless.data if t.ids and t.ids[0] == "float16").text = [""]
    assert any("'float16'" in p and "no label" in p
               for p in check_labels_on_their_points(nameless))


def test_grouping_is_in_pixels_and_every_member_is_near_its_anchor():
    plot = labels.Plot(labels.Axis(0.001, 10.0, 300.0, log=True), labels.Axis(0.0, 1.0, 300.0))
    # a chain 3 px apart: single-linkage would put all in one label; anchors keep it honest
    xs = [0.01 * 10 ** (3 * k / 75) for k in range(5)]      # 75 px per decade
    placed = labels.place_labels(xs, [0.5] * 5, list("abcde"), plot)
    for label in placed:
        ax, ay = plot.pixels(xs[label.anchor], 0.5)
        for member in label.members:
            assert abs(plot.pixels(xs[member], 0.5)[0] - ax) <= labels.NEAR_PX
    assert sorted(m for label in placed for m in label.members) == list(range(5))
    with pytest.raises(ValueError, match="positive range"):
        labels.Axis(0.0, 1.0, 300.0, log=True)


def test_placed_labels_do_not_overprint_each_other():
    plot = labels.plot_of((0.0, 170.0), (97.0, 99.5), 460, 100, 70)
    xs, ys = [145.0, 72.0, 42.0, 40.0, 39.5], [98.67, 98.67, 98.67, 98.44, 98.89]
    names = ["float32", "float16", "dynamic_range", "integer", "qat"]
    placed = labels.place_labels(xs, ys, names, plot, 15, first=("float32",))
    boxes = []
    for label in placed:
        at = plot.pixels(xs[label.anchor], ys[label.anchor])
        if label.side:
            boxes.append(labels.text_box(*at, label.text, label.side, 15))
    for i, a in enumerate(boxes):
        assert not any(labels.overlaps(a, b) for b in boxes[i + 1:])


def test_the_layer_chart_writes_kept_in_float_on_the_kept_layers_rows():
    from optimizer.report.layer_charts import layer_error_figure

    before = [{"name": f"m/{n}", "layer": n, "op": "FULLY_CONNECTED", "rmse": 0.1, "scale": 0.01,
               "rmse_scale": 10.0 / (i + 1), "index": i} for i, n in enumerate("abcd")]
    report = {"before": before, "after": before[1:3],
              "kept_float": [{"name": "m/a", "layer": "a"}, {"name": "m/d", "layer": "d"}]}
    fig = layer_error_figure(report)
    notes = [a for a in fig.layout.annotations if a.text == "<b>kept in float</b>"]
    assert sorted(a.y for a in notes) == ["a (FULLY_CONNECTED)", "d (FULLY_CONNECTED)"]
    assert set(fig.data[0].y) >= {a.y for a in notes}        # rows that are drawn
