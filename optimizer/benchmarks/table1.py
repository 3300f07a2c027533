"""Table 1's architectures measured by this project: float32 and int8 size and latency.

``python -m optimizer bench table1`` builds tf_keras MobileNet v1, MobileNetV2 and InceptionV3
with random weights (no download: ``weights=None``), writes each with a few random inputs,
and runs them through the project's own pipeline (``python -m optimizer run --technique
integer``: the float32 baseline and post-training full integer, float fallback). The sizes and
the latency of both files go to ``assets/learn/table1_measured.json`` with the date, the
library versions and the CPU, for the Learn page to show beside the guide's published Table 1.
Random weights make accuracy meaningless, so none is reported; sizes and latency do not depend
on the weights' values. It takes minutes (InceptionV3 is 96 MB); run it niced.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from optimizer import paths
from optimizer.artifacts import store

#: (published row name, tf_keras.applications builder, input side) in Table 1's order.
ARCHITECTURES = (
    ("Mobilenet-v1-1-224", "MobileNet", 224),
    ("Mobilenet-v2-1-224", "MobileNetV2", 224),
    ("Inception_v3", "InceptionV3", 299),
)
OUT = paths.ASSETS / "learn" / "table1_measured.json"
#: Random inputs written per model: calibration and a short accuracy pass only.
SAMPLES = 40
SETTINGS = ("calibration.samples=24", "latency.warmup=3", "latency.rounds=3",
            "latency.max_seconds=20")


def build(builder: str, side: int, model_path: Path, data_path: Path) -> None:
    """(In a child process) save ``tf_keras.applications.<builder>(weights=None)`` and an .npz
    of ``SAMPLES`` random inputs in [-1, 1] (the range these models are trained on)."""
    import numpy as np

    from optimizer import compat

    keras = compat.keras()
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, builder)(weights=None, input_shape=(side, side, 3))
    model.save(model_path)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(SAMPLES, side, side, 3)).astype("float32")
    np.savez(data_path, x=x)


def _row(name: str, doc: dict, seconds: float) -> dict:
    by = {r["technique"]: r for r in doc.get("results", [])}
    f32, i8 = by.get("float32", {}), by.get("integer", {})
    row = {"model": name, "seconds": round(seconds, 1)}
    for key, r in (("float32", f32), ("int8", i8)):
        row[f"{key}_status"] = r.get("status")
        row[f"{key}_bytes"] = r.get("size_bytes")
        row[f"{key}_latency_ms_median"] = r.get("latency_ms_median")
        row[f"{key}_latency_ms_p10"] = r.get("latency_ms_p10")
        row[f"{key}_latency_ms_p90"] = r.get("latency_ms_p90")
        row[f"{key}_kernels"] = r.get("latency_kernels")
    row["threads"] = f32.get("latency_threads")
    row["measured_on"] = f32.get("measured_on")
    return row


def measure_table1(work: Path | str | None = None, out: Path | str = OUT) -> dict:
    """Build, run and record every architecture (see the module doc); return the document."""
    from optimizer.procs import child_env

    work = Path(work) if work else paths.workspace() / "bench" / "table1"
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, builder, side in ARCHITECTURES:
        model_path, data_path = work / f"{builder}.h5", work / f"{builder}.npz"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "optimizer.benchmarks.table1", "build", builder,
                        str(side), str(model_path), str(data_path)], check=True,
                       env=child_env(), stdin=subprocess.DEVNULL)
        run_dir = work / f"run-{builder}-{time.strftime('%Y%m%d-%H%M%S')}"
        command = [sys.executable, "-m", "optimizer", "run", "--model", str(model_path),
                   "--data", str(data_path), "--technique", "integer", "--out", str(run_dir),
                   "--json", "-"] + [a for s in SETTINGS for a in ("--set", s)]
        done = subprocess.run(command, capture_output=True, text=True, env=child_env(),
                              stdin=subprocess.DEVNULL)
        try:
            doc = json.loads(done.stdout)
        except ValueError:
            doc = {"results": []}
            print(done.stderr[-2000:], file=sys.stderr)
        rows.append(_row(name, doc, time.perf_counter() - started))
        print(json.dumps(rows[-1]), file=sys.stderr)
    document = {
        "what": "tf_keras.applications models with random weights (weights=None), converted "
                "by this project's pipeline: float32 and post-training full integer (int8, "
                "float fallback); latency of one sample per invoke in the LiteRT interpreter",
        "accuracy": "not measured: random weights",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": store.library_versions(),
        "settings": list(SETTINGS),
        "command": "nice python -m optimizer bench table1",
        "rows": rows,
    }
    store.write_json_atomic(out, document)
    return document


def _main(argv=None) -> int:
    """``python -m optimizer.benchmarks.table1 build BUILDER SIDE MODEL.h5 DATA.npz`` (internal)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 5 or args[0] != "build":
        print("usage: python -m optimizer.benchmarks.table1 build BUILDER SIDE MODEL DATA",
              file=sys.stderr)
        return 2
    build(args[1], int(args[2]), Path(args[3]), Path(args[4]))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
