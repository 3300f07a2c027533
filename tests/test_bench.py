"""The ptq-sweep benchmark runs both paths and reports their figures (no timing thresholds)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from optimizer.benchmarks.ptq_sweep import PTQ_SWEEP

pytestmark = pytest.mark.cost(45)


@pytest.mark.slow
def test_ptq_sweep_reports_both_paths(tmp_path, tiny_model, tiny_dataset):
    tiny_model.save(tmp_path / "tiny.h5")
    tiny_dataset.save_npz(tmp_path / "tiny.npz")
    proc = subprocess.run(
        [sys.executable, "-m", "optimizer", "bench", "ptq-sweep", "--model",
         str(tmp_path / "tiny.h5"), "--data", str(tmp_path / "tiny.npz"),
         "--out", str(tmp_path / "bench"), "--json", "-"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(proc.stdout)
    assert {"variants", "naive_s", "optimized_s", "speedup", "peak_rss_mb"} <= set(figures)
    assert [v["technique"] for v in figures["variants"]] == [t.value for t in PTQ_SWEEP]
    for v in figures["variants"]:
        assert v["naive_status"] == "ok" and v["optimized_status"] == "ok", v
        # Same converter presets on both paths: the same sizes and accuracy.
        assert v["optimized_bytes"] == pytest.approx(v["naive_bytes"], rel=0.05), v
        assert v["optimized_accuracy"] == pytest.approx(v["naive_accuracy"], abs=0.01), v
        assert v["naive_seconds"] > 0 and v["optimized_seconds"] > 0
        assert v["optimized_gzip_bytes"] < v["optimized_bytes"]
        # the same job in a fork of a warm job process writes the same files
        assert v["warm_status"] == "ok" and v["warm_bytes"] == v["optimized_bytes"], v
        assert v["warm_accuracy"] == v["optimized_accuracy"], v
    assert figures["naive_s"] > 0 and figures["optimized_s"] > 0
    assert figures["warm_exit"] == 0 and figures["warm_s"] > 0
    assert len(figures["load_average_before"]) == len(figures["load_average_after"]) == 3
    assert figures["speedup"] == pytest.approx(figures["naive_s"] / figures["optimized_s"],
                                               rel=0.01)
    assert figures["peak_rss_mb"] >= max(figures["naive_peak_rss_mb"],
                                         figures["optimized_peak_rss_mb"]) > 100
    assert (tmp_path / "bench" / "optimized" / "float32" / "recipe.json").exists()


def test_first_chart_figures_are_spans_between_the_clicks_and_the_runs_events():
    """bench first-chart's figures: the browser's clock marks and the run's events (no
    browser here: the arithmetic and the printed lines)."""
    from optimizer.benchmarks.first_chart import _figures, summary_lines

    events = [{"t": 101.0, "type": "run_started"}, {"t": 101.1, "type": "job_started"},
              {"t": 104.0, "type": "measured"}, {"t": 105.0, "type": "job_finished", "warm": True},
              {"t": 109.0, "type": "measured"}, {"t": 110.0, "type": "job_finished"},
              {"t": 110.5, "type": "run_finished"}]
    f = _figures(events, opened=90.0, clicked=100.0, first_chart=105.0, done=111.5,
                 warm_before=True, requested=100.4, folder="run")
    assert (f["first_chart_s"], f["done_s"], f["journey_s"]) == (15.0, 21.5, 10.0)
    assert (f["click_to_first_event_s"], f["click_to_start_run_s"],
            f["start_run_to_first_event_s"]) == (1.0, 0.4, 0.6)
    assert f["first_result_to_chart_s"] == 1.0          # from the first measured result
    assert (f["last_event_to_done_s"], f["run_work_s"], f["first_result_s"]) == (1.0, 9.5, 3.0)
    assert f["warm_job_processes"] == [True, False]
    nothing = _figures([], 90.0, 100.0, 105.0, 111.5, False, None, None)
    assert nothing["run_work_s"] is None and nothing["click_to_first_event_s"] is None
    lines = summary_lines({"model": "digits-cnn", "measured_on": "here",
                           "load_average_before": [2.5, 0, 0], "load_average_after": [3, 0, 0],
                           "passes": {"cold": f}})
    assert "load average 2.50 before, 3.00 after" in lines[0]
    assert lines[1].startswith("cold  first chart 15.0 s, whole run on screen 21.5 s")
    assert json.loads(lines[-1]) == {"cold": {"first_chart_s": 15.0, "done_s": 21.5,
                                              "run_work_s": 9.5}}


def test_first_chart_reads_each_warm_slots_memory_from_proc(tmp_path):
    """The warm processes' resident memory comes from /proc for the pid each slot's lock names
    (here this test's own process); a slot whose process is gone is left out, not zero."""
    import os

    from optimizer.benchmarks.first_chart import _memory_text, warm_memory

    slots = tmp_path / "slots"
    slots.mkdir()
    (slots / "warm-0.lock.json").write_text(json.dumps({"pid": os.getpid(), "ready": True}))
    (slots / "warm-1.lock.json").write_text(json.dumps({"pid": 2 ** 22 + 7, "ready": True}))
    memory = warm_memory(tmp_path)
    assert list(memory) == ["0"] and memory["0"] > 10          # a Python process: > 10 MiB
    assert _memory_text(memory).startswith("slot 0 ") and _memory_text({}) == "not read"
