"""The per-layer int8 error of a run or a search, for the graph's error overlay.

The values are the ones the per-layer repair measures (``engine.layer_error``: each quantized
op's RMSE / scale against its float copy under TFLite's QuantizationDebugger), computed the
same way: a ``selective`` job in mode ``analyse`` run by ``python -m optimizer worker``.

* A search already has the machinery: ``search.background.start_repair(.., analyse=True)``
  starts the analysis and ``search.layers.layer_reports`` finds every report it wrote.
* A run gets its own: ``start_analysis`` starts ``python -m optimizer.graph.analyse RUN_DIR``
  in the background, which waits for a worker slot like every job, runs the job in
  ``<run_dir>/graph-layers/`` and leaves ``layers.json`` there. While it works it holds that
  folder's run lock, so ``status`` tells a live analysis from one that died.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from optimizer.artifacts import store
from optimizer.artifacts.events import EventLog
from optimizer.artifacts.job import REFERENCE_OUTPUTS, SELECTIVE, JobSpec
from optimizer.procs import child_env

FOLDER = "graph-layers"
LAYER_REPORT = "layers.json"     # the name engine.selective writes
JOB_ID = "layers"
#: Written when an analysis is started, removed once its process holds the folder's lock: a
#: page that looks in between sees it running.
REQUESTED = "requested"
START_GRACE_S = 60.0


def report_for(folder: Path | str) -> dict | None:
    """The newest per-layer error report of a run or search folder (``layers.json``: its
    ``before`` list has every quantized op's error with all layers in int8), or None."""
    folder = Path(folder)
    if _is_search(folder):
        from optimizer.search.layers import layer_reports
        from optimizer.search.runner import read_outcome

        outcome = read_outcome(folder)
        reports = layer_reports(outcome) if outcome is not None else []
        return reports[0]["report"] if reports else None
    data = store.read_json(folder / FOLDER / LAYER_REPORT)
    return data if isinstance(data, dict) and data.get("before") else None


def status(folder: Path | str) -> str | None:
    """"running" while an analysis works on ``folder``, a one-line error when the last one
    failed, else None (no analysis, or one that finished)."""
    folder = Path(folder)
    if _is_search(folder):
        from optimizer.search.background import read_search

        state = read_search(folder)
        return None if state.done else "running"
    work = folder / FOLDER
    requested = work / REQUESTED
    if store.RunLock.is_held(work) or (
            requested.is_file() and time.time() - requested.stat().st_mtime < START_GRACE_S):
        return "running"
    if not (requested.exists() or (work / f"{JOB_ID}.json").exists()) or \
            report_for(folder) is not None:
        return None
    lines = []
    for log in (work / f"{JOB_ID}.log", work / "analyse.log"):
        lines += [line for line in (log.read_text(errors="replace") if log.is_file() else "")
                  .splitlines() if line.strip()]
    return ("the per-layer analysis failed: " + (lines[-1][:200] if lines else
                                                 "it stopped without a report"))


def start_analysis(folder: Path | str, *, workspace: str | None = None) -> None:
    """Measure the per-layer int8 error of the finished run or search in ``folder`` in the
    background. ``ValueError`` (one line) while it still runs or when it has no float32
    baseline; ``access.ReadOnly`` when ``workspace`` (who asks; None: the command line) does
    not own the folder (a share link's viewer)."""
    from optimizer import access

    folder = Path(folder).resolve()
    access.require_owner(folder, workspace, "Measuring the per-layer int8 error")
    if _is_search(folder):
        from optimizer.search.background import start_repair

        start_repair(folder, analyse=True, workspace=workspace)
        return
    from optimizer.runs.background import read_run

    run = read_run(folder)
    if not run.done:
        raise ValueError("the run is still going; measure the per-layer error once it finished")
    if status(folder) == "running":
        raise ValueError("the per-layer error is being measured already")
    _baseline(run)
    from optimizer.models.resolve import resolve_model
    from optimizer.search.runner import repair_blocker

    blocked = repair_blocker(resolve_model(run.request.model, run.request.data))
    if blocked:
        raise ValueError(f"{blocked}; upload the Keras model to measure its layers")
    work = folder / FOLDER
    work.mkdir(exist_ok=True)
    (work / REQUESTED).write_text(str(time.time()))
    with open(work / "analyse.log", "ab") as log:
        subprocess.Popen([sys.executable, "-m", "optimizer.graph.analyse", str(folder)],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         cwd=work, env=child_env(), start_new_session=True)


def _is_search(folder: Path) -> bool:
    from optimizer.search.runner import SEARCH

    return (folder / SEARCH).is_file()


def _baseline(run):
    baseline = next((r for r in run.results if r.technique == "float32"), None)
    if baseline is None or not baseline.ok or not baseline.tflite_path:
        raise ValueError("the run has no float32 baseline to compare against; run it again")
    if run.request is None:
        raise ValueError("the run's request.json is missing or damaged; run it again")
    return baseline


def analyse(folder: Path | str) -> None:
    """Run the analysis job for the run in ``folder`` (in this process's child), in a slot."""
    from optimizer.engine.selective import SelectiveTask, write_task
    from optimizer.runs.background import read_run
    from optimizer.runs.local import run_job
    from optimizer.runs.slots import worker_slot

    folder = Path(folder)
    run = read_run(folder)
    baseline = _baseline(run)
    work = folder / FOLDER
    work.mkdir(exist_ok=True)
    lock = store.RunLock(work).acquire()
    (work / REQUESTED).unlink(missing_ok=True)
    try:
        (work / LAYER_REPORT).unlink(missing_ok=True)
        outputs = Path(baseline.tflite_path).parent / REFERENCE_OUTPUTS
        job = JobSpec(id=JOB_ID, kind=SELECTIVE.value, specs=(), model=run.request.model,
                      data=run.request.data, settings=tuple(run.request.settings),
                      run_dir=str(work), events=str(work / store.EVENTS),
                      reference={"value": baseline.accuracy, "metric": baseline.metric,
                                 "higher_is_better": baseline.higher_is_better,
                                 "outputs": str(outputs)})
        write_task(job, SelectiveTask(mode="analyse", trial=""))
        with worker_slot():
            run_job(job, EventLog(job.events), run.model or "")
    finally:
        lock.release()


def main(argv=None) -> int:
    """``python -m optimizer.graph.analyse RUN_DIR``: the per-layer analysis of one run."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m optimizer.graph.analyse RUN_DIR", file=sys.stderr)
        return 2
    try:
        analyse(args[0])
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
