"""Latency: timed in a LiteRT-only child process; statistics, threads, kernels and notes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.guide.configs import LatencyConfig, PtqConfig
from optimizer.measuring.latency import INT16_NOTE, LatencyStats, host_description, measure_latency

ROOT = Path(__file__).resolve().parents[1]
QUICK = dict(warmup=2, rounds=3, max_seconds=0.3)


def test_stats_round_trip_through_dicts():
    stats = LatencyStats(0.5, 0.4, 0.9, 2, 30, "XNNPACK + 1 builtin ops", note="n",
                         round_medians_ms=(0.5, 0.6), builtin_ops=("SOFTMAX",))
    data = json.loads(json.dumps(stats.to_dict()))
    assert LatencyStats.from_dict({**data, "future_field": 1}) == stats


def test_host_description_names_cpu_cores_and_litert():
    text = host_description()
    assert "logical cores" in text and "ai-edge-litert" in text


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="no .tflite file"):
        measure_latency([tmp_path / "missing.tflite"])


@pytest.fixture(scope="module")
def files(tiny_model, tiny_dataset, tmp_path_factory):
    from optimizer.engine.convert import convert, freeze_model

    folder = tmp_path_factory.mktemp("latency")
    frozen = freeze_model(tiny_model)
    paths = {}
    for name, config in {"float32": PtqConfig.float32(), "int16x8": PtqConfig.int16x8(),
                         "integer_only": PtqConfig.full_integer(True)}.items():
        path = folder / f"{name}.tflite"
        path.write_bytes(convert(frozen, config, tiny_dataset.representative(50)).tflite)
        paths[name] = str(path)
    return paths


@pytest.mark.slow
def test_sane_statistics_and_kernels(files):
    stats = measure_latency(list(files.values()), LatencyConfig(threads=1, **QUICK))
    assert set(stats) == set(files.values())
    for s in stats.values():
        assert s.error is None
        assert 0 < s.p10_ms <= s.median_ms <= s.p90_ms
        assert s.invokes >= 3 and len(s.round_medians_ms) == 3 and s.threads == 1
    assert stats[files["float32"]].kernels == "XNNPACK"
    assert stats[files["float32"]].note is None
    slow = stats[files["int16x8"]]
    assert slow.kernels == "builtin kernels" and INT16_NOTE in slow.note
    assert stats[files["integer_only"]].kernels.startswith("XNNPACK")


@pytest.mark.slow
def test_threads_are_honoured(files):
    stats = measure_latency([files["float32"]], LatencyConfig(threads=2, **QUICK))
    assert stats[files["float32"]].threads == 2


@pytest.mark.slow
def test_child_process_imports_only_litert(files):
    out = subprocess.run(
        [sys.executable, "-m", "optimizer.measuring.latency", "--report-modules", "--warmup", "1",
         "--rounds", "1", "--max-seconds", "0.1", files["float32"]],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    modules = set(report["modules"])
    assert "ai_edge_litert" in modules and "numpy" in modules
    assert not modules & {"tensorflow", "tf_keras", "keras", "litert_quantizer",
                          "tensorflow_model_optimization", "streamlit"}
    assert report["results"][files["float32"]]["invokes"] >= 1


def test_id_inputs_get_valid_indices_and_quantized_inputs_their_range():
    """int32 token ids feed an embedding's GATHER: a negative id fails the invoke."""
    import numpy as np

    from optimizer.measuring.latency import _random_input

    rng = np.random.default_rng(0)
    ids = _random_input({"dtype": np.int32, "shape": [1, 64]}, rng)
    assert ids.dtype == np.int32 and ids.min() >= 0 and ids.max() <= 1
    quantized = _random_input({"dtype": np.int8, "shape": [1, 256]}, rng)
    assert quantized.min() < 0 < quantized.max()


def test_a_file_the_timing_process_could_not_run_says_why():
    from optimizer.guide.schema import Result
    from optimizer.runs.local import fill_latency

    r = Result(technique="qat", status="ok", tflite_path="/x/qat/model.tflite")
    failed = LatencyStats(None, None, None, 1, 0, "not run", error="GATHER failed to invoke")
    fill_latency([r], {"/x/qat/model.tflite": failed}, "host")
    assert r.latency_ms_median is None
    assert "latency not measured: GATHER failed to invoke" in r.notes
