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
    assert figures["naive_s"] > 0 and figures["optimized_s"] > 0
    assert figures["speedup"] == pytest.approx(figures["naive_s"] / figures["optimized_s"],
                                               rel=0.01)
    assert figures["peak_rss_mb"] >= max(figures["naive_peak_rss_mb"],
                                         figures["optimized_peak_rss_mb"]) > 100
    assert (tmp_path / "bench" / "optimized" / "float32" / "recipe.json").exists()
