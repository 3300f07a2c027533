"""Benchmarks that print measured figures (never used as test thresholds).

``ptq_sweep`` measures, side by side in one run, three ways of producing and evaluating the
float32 baseline plus the five post-training variants (float16, dynamic_range, integer,
integer_only, int16x8):

* **naive**: one fresh process that converts each variant with ``convert_from_keras`` (the
  plain ``TFLiteConverter.from_keras_model`` path) and evaluates it;
* **optimized**: one fresh ``python -m optimizer worker`` process running exactly the job a
  run's baseline job runs (load, freeze ONCE, convert each variant from the frozen graph,
  evaluate, save with recipe);
* **warm**: the same job as a run runs it now, in a fork of the worker slot's warm job
  process (``runs.warm``: TensorFlow already imported; the process is started and warmed up
  before the clock starts, as the app does while a user reads the first pages).

Decision: the naive and optimized paths are timed as the wall time of their own fresh
process, from spawn to exit, so the Python + TensorFlow import, model and data loading are
included on both sides; the warm path from handing the job to its warm process to its exit
status (what a run waits for once the app is up). Latency timing is excluded from all three
(it runs after the baseline job in a run, and is the same for every path). The paths run one
after the other under a worker slot, so no run on the same server competes with them. Peak
memory is each fresh child's ``ru_maxrss`` (from ``os.wait4``). The load average before and
after is recorded with the figures (other processes on the CPUs make every figure longer).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from optimizer import paths
from optimizer.artifacts import store
from optimizer.guide.registry import TechniqueId

PTQ_SWEEP = (TechniqueId.FLOAT32, TechniqueId.FLOAT16, TechniqueId.DYNAMIC_RANGE,
             TechniqueId.INTEGER, TechniqueId.INTEGER_ONLY, TechniqueId.INT16X8)


def _spawn_timed(command: list[str], log_path: Path) -> tuple[float, float, int]:
    """Run ``command`` to completion; return (wall seconds, peak RSS MB, exit code)."""
    from optimizer.procs import child_env

    start = time.perf_counter()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=child_env())
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 above
    return seconds, usage.ru_maxrss / 1024.0, proc.returncode  # ru_maxrss is KiB on Linux


def naive_sweep(ref: str, data: str | None, out: Path) -> None:
    """The naive side (run in its own process): from_keras_model per variant, then evaluate."""
    from optimizer.engine.convert import convert_from_keras
    from optimizer.guide.configs import Settings
    from optimizer.measuring.accuracy import evaluate
    from optimizer.measuring.facts import tflite_facts
    from optimizer.models.resolve import resolve_model

    bundle = resolve_model(ref, data)
    model = bundle.load_keras()
    dataset = bundle.dataset
    settings = Settings()
    rows, reference = [], None
    for tid in PTQ_SWEEP:
        start = time.perf_counter()
        config = settings.ptq(tid)
        rep = dataset.representative(settings.calibration_samples) if config.needs_calibration \
            else None
        try:
            conversion = convert_from_keras(model, config, representative=rep)
            evaluation = evaluate(conversion.tflite, dataset, reference_outputs=reference)
        except Exception as exc:
            rows.append({"technique": tid.value, "status": "error", "error": str(exc)[:300]})
            continue
        if tid == TechniqueId.FLOAT32:
            reference = evaluation.outputs
        facts = tflite_facts(conversion.tflite)
        rows.append({"technique": tid.value, "status": "ok", "bytes": facts.size_bytes,
                     "gzip_bytes": facts.gzip_bytes, "accuracy": evaluation.value,
                     "metric": evaluation.metric, "convert_s": round(conversion.seconds, 3),
                     "eval_s": round(evaluation.seconds, 3),
                     "seconds": round(time.perf_counter() - start, 3)})
    store.write_json_atomic(out, {"variants": rows})


def _optimized_job(ref: str, data: str | None, run_dir: Path):
    from optimizer.runs.orchestrate import plan_jobs
    from optimizer.runs.request import RunRequest

    request = RunRequest(model=ref, techniques=tuple(t.value for t in PTQ_SWEEP), data=data)
    jobs = plan_jobs(request, run_dir, run_dir / store.EVENTS)
    if len(jobs) != 1:
        raise RuntimeError("the ptq sweep must plan exactly one (baseline) job")
    store.write_json_atomic(jobs[0].path, jobs[0].to_dict())
    return jobs[0]


def ptq_sweep(ref: str = "digits-mobilenetv2", data: str | None = None,
              out: Path | str | None = None) -> dict:
    """Time the naive and the optimized post-training sweep; return the figures (see module)."""
    from optimizer.measuring.latency import host_description
    from optimizer.models.resolve import resolve_model
    from optimizer.runs.slots import worker_slot
    from optimizer.runs.wait import work_info

    load_before = os.getloadavg()   # other processes on the CPUs make every figure longer
    bundle = resolve_model(ref, data)
    out = Path(out) if out else paths.workspace() / "bench" / (
        f"ptq-sweep-{bundle.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    out.mkdir(parents=True, exist_ok=True)
    run_dir = out / "optimized"
    run_dir.mkdir(exist_ok=True)
    naive_file = out / "naive.json"
    naive_cmd = [sys.executable, "-m", "optimizer.benchmarks.ptq_sweep", "naive", "--model", bundle.ref,
                 "--out", str(naive_file)] + (["--data", bundle.data] if bundle.data else [])
    job = _optimized_job(bundle.ref, bundle.data, run_dir)
    worker_cmd = [sys.executable, "-m", "optimizer", "worker", "--job", str(job.path)]
    with worker_slot(on_wait=lambda m: print(m, file=sys.stderr),
                     info=work_info("benchmark", None)) as slot:
        naive_s, naive_rss, naive_rc = _spawn_timed(naive_cmd, out / "naive.log")
        opt_s, opt_rss, opt_rc = _spawn_timed(worker_cmd, job.log_path)
        warm_s, warm_rc, warm_job = _warm_timed(bundle, out / "warm", slot)
    naive = {r["technique"]: r for r in (store.read_json(naive_file, {}) or {}).get("variants", [])}
    optimized = {r["technique"]: r for r in
                 (store.read_json(job.results_path, {}) or {}).get("results", [])}
    warm = {r["technique"]: r for r in ((store.read_json(warm_job.results_path, {}) or {})
                                        .get("results", []) if warm_job else [])}
    variants = [{**_variant(t.value, naive.get(t.value, {}), optimized.get(t.value, {})),
                 **_warm_variant(warm.get(t.value, {}))} for t in PTQ_SWEEP]
    shared = next((r.get("prep_seconds") for r in optimized.values() if r.get("prep_seconds")),
                  None)
    return {
        "benchmark": "ptq-sweep", "model": bundle.name, "variants": variants,
        "naive_s": round(naive_s, 2), "optimized_s": round(opt_s, 2),
        "speedup": round(naive_s / opt_s, 2) if opt_s > 0 else None,
        "peak_rss_mb": round(max(naive_rss, opt_rss), 1),
        "naive_peak_rss_mb": round(naive_rss, 1), "optimized_peak_rss_mb": round(opt_rss, 1),
        "optimized_shared_prep_s": shared, "naive_exit": naive_rc, "optimized_exit": opt_rc,
        "warm_s": None if warm_s is None else round(warm_s, 2), "warm_exit": warm_rc,
        "timing": "naive, optimized: wall time of each path's own fresh process (Python + "
                  "TensorFlow import, model and data load, 6 conversions, 6 evaluations on the "
                  "test split; no latency); warm: the optimized job in a fork of a warm job "
                  "process, from handing it the job to its exit status",
        "measured_on": host_description(), "cpu_count": os.cpu_count(), "out": str(out),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }


def _warm_timed(bundle, run_dir: Path, slot: int) -> tuple:
    """(seconds, exit status, job) of the optimized job in slot ``slot``'s warm job process
    (started and warmed up first, outside the clock); (None, None, None) when warm job
    processes are off or could not start."""
    from optimizer.runs import warm

    if not warm.enabled() or warm.ensure_ready(warm.place(slot)) is None:
        return None, None, None
    run_dir.mkdir(parents=True, exist_ok=True)
    job = _optimized_job(bundle.ref, bundle.data, run_dir)
    start = time.perf_counter()
    handle = warm.start_job(job.path, job.log_path, warm.place(slot))
    if handle is None:
        return None, None, None
    code = handle.wait()
    return time.perf_counter() - start, code, job


def _warm_variant(warm: dict) -> dict:
    ok = warm.get("status") == "ok"
    seconds = None
    if ok and warm.get("convert_seconds") is not None:
        seconds = round(warm["convert_seconds"] + (warm.get("eval_seconds") or 0.0), 3)
    return {"warm_status": warm.get("status", "missing"), "warm_bytes": warm.get("size_bytes"),
            "warm_accuracy": warm.get("accuracy"), "warm_seconds": seconds}


def _variant(technique: str, naive: dict, optimized: dict) -> dict:
    ok = optimized.get("status") == "ok"
    opt_s = None
    if ok and optimized.get("convert_seconds") is not None:
        opt_s = round(optimized["convert_seconds"] + (optimized.get("eval_seconds") or 0.0), 3)
    return {
        "technique": technique,
        "naive_status": naive.get("status", "missing"),
        "naive_bytes": naive.get("bytes"), "naive_gzip_bytes": naive.get("gzip_bytes"),
        "naive_accuracy": naive.get("accuracy"), "naive_seconds": naive.get("seconds"),
        "optimized_status": optimized.get("status", "missing"),
        "optimized_error": optimized.get("error"),
        "optimized_bytes": optimized.get("size_bytes"),
        "optimized_gzip_bytes": optimized.get("gzip_bytes"),
        "optimized_accuracy": optimized.get("accuracy"), "optimized_seconds": opt_s,
        "optimized_engine": optimized.get("engine"),
    }


def _main(argv=None) -> int:
    """``python -m optimizer.benchmarks.ptq_sweep naive --model REF [--data PATH] --out FILE`` (internal)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m optimizer.benchmarks.ptq_sweep")
    parser.add_argument("mode", choices=["naive"])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    naive_sweep(args.model, args.data, Path(args.out))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip TensorFlow's slow teardown: the result file is written


if __name__ == "__main__":
    _main()
