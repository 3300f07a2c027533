"""``export mlflow``: a run or a search as MLflow runs (MLflow has no TFLite flavour).

One parent run per run or search, one nested run (``mlflow.parentRunId``) per variant or
trial, in the experiment "LiteRT Optimization Studio":

* parent: params = the request (techniques and settings, or the search's goals and budget),
  tags = kind, run id, model, target, executors, nodes, package versions; artifacts = the
  hand-over report (``report.handover``), the charts as PNG (``tracking.charts``) and the
  results document;
* nested: params = its ``recipe.json`` flattened, metrics and tags from ``tracking.records``,
  artifacts = the ``.tflite`` and its ``recipe.json``; a failed variant is a FAILED run whose
  ``error`` tag says why.

Exporting the same run again replaces its earlier export (found by the ``optimizer.run_id``
tag). The default store is offline: ``sqlite:///<workspace>/mlflow.db`` with artifacts in
``<workspace>/mlflow-artifacts``. MLflow is optional (``make setup-mlflow``); without it the
export raises ``ValueError`` naming that command. Server paths never reach the store: recipes
and messages go through ``report.public``.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from optimizer import paths
from optimizer.artifacts import store
from optimizer.procs import child_env
from optimizer.report.public import public_record
from optimizer.tracking.records import flatten, result_metrics, result_tags

SETUP_COMMAND = "make setup-mlflow"
EXPERIMENT = "LiteRT Optimization Studio"
RUN_TAG = "optimizer.run_id"
TIMEOUT_S = 900


def mlflow_missing() -> str | None:
    """Why the export cannot run here (one line naming the fix), or None."""
    for module in ("mlflow", "sqlalchemy", "alembic"):
        if importlib.util.find_spec(module) is None:
            return (f"MLflow is not installed on this server; run `{SETUP_COMMAND}` (opt-in) "
                    f"to enable the MLflow export")
    return None


def default_tracking_uri(folder: Path | str | None = None) -> str:
    """``sqlite:///<folder>/mlflow.db`` (default folder: the workspace): offline, no server."""
    return f"sqlite:///{Path(folder or paths.workspace()).resolve() / 'mlflow.db'}"


def _artifact_root(uri: str) -> str | None:
    """Artifacts of a SQLite store live beside its database; other stores decide themselves."""
    if uri.startswith("sqlite:///"):
        return (Path(uri[len("sqlite:///"):]).parent / "mlflow-artifacts").as_uri()
    return None


def _load(folder: Path):
    """``(kind, results, outcome, request dict, target, model)`` of a finished run or search."""
    from optimizer.report.verdict import context_of
    from optimizer.runs.background import read_run
    from optimizer.search.runner import SEARCH, read_outcome

    if store.RunLock.is_held(folder):
        raise ValueError("this run is still going; export it once it has finished")
    run = read_run(folder)
    if (folder / SEARCH).is_file():
        outcome = read_outcome(folder)
        request = store.read_json(folder / SEARCH, default={}) or {}
        results = list(outcome.trials) if outcome is not None else list(run.results)
        return "search", results, outcome, request, request.get("target"), run.model
    answers, _goals = context_of(folder)
    request = store.read_json(folder / store.REQUEST, default={}) or {}
    return "run", list(run.results), None, request, getattr(answers, "target", None), run.model


def _with_readiness(folder: Path, results: list, target) -> list:
    """Results with the readiness verdict the Results page recorded for ``target`` (arena and
    flash come from it), where the result does not carry one already."""
    if not target or all(r.readiness for r in results):
        return results
    from optimizer.report.verdict import context_of
    from optimizer.runs.readiness import run_data, with_readiness

    _answers, goals = context_of(folder)
    request = store.read_json(folder / store.REQUEST, default={}) or {}
    data = run_data(request.get("model"), request.get("data"))
    checked = with_readiness(results, target, budget=getattr(goals, "mcu", None), data=data)
    return [r if r.readiness else c for r, c in zip(results, checked)]


def export_mlflow(folder: Path | str, tracking_uri: str | None = None,
                  run_id: str | None = None) -> dict:
    """Export the run or search in ``folder`` to MLflow; returns a summary dict
    (``tracking_uri``, ``experiment_id``, ``parent_run_id``, ``nested_runs``, ``charts``,
    ``note``). ``ValueError`` (one line) without MLflow, for a live run or an empty one."""
    missing = mlflow_missing()
    if missing:
        raise ValueError(missing)
    from mlflow.tracking import MlflowClient

    folder = Path(folder).resolve()
    run_id = run_id or folder.name
    kind, results, outcome, request, target, model = _load(folder)
    if not results:
        raise ValueError("this run has no results to export yet")
    results = _with_readiness(folder, results, target)
    uri = tracking_uri or default_tracking_uri()
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    experiment_id = (experiment.experiment_id if experiment is not None else
                     client.create_experiment(EXPERIMENT, artifact_location=_artifact_root(uri)))
    _forget_earlier(client, experiment_id, run_id)
    parent = client.create_run(experiment_id, run_name=f"{kind} {model or ''} {run_id}".strip(),
                               tags=_parent_tags(kind, run_id, model, target, results))
    parent_id = parent.info.run_id
    _log_params(client, parent_id, flatten(request, run_dir=folder))
    note = _parent_artifacts(client, parent_id, folder, results, outcome)
    for result in results:
        _nested(client, experiment_id, parent_id, result, target, folder)
    client.set_terminated(parent_id, "FINISHED")
    return {"tracking_uri": uri, "experiment": EXPERIMENT, "experiment_id": experiment_id,
            "parent_run_id": parent_id, "kind": kind, "run_id": run_id,
            "nested_runs": len(results), "charts": "json" if note else "png", "note": note}


def _parent_tags(kind, run_id, model, target, results) -> dict:
    tags = {RUN_TAG: run_id, "optimizer.kind": kind, "model": model or "",
            "target": target or "not set",
            "executor": ", ".join(sorted({r.executor for r in results if r.executor})) or "local",
            "node": ", ".join(sorted({r.node for r in results if r.node})) or "",
            "mlflow.source.name": "python -m optimizer export mlflow"}
    for package, version in store.library_versions().items():
        tags[f"version.{package}"] = version or "not installed"
    return {k: str(v) for k, v in tags.items() if v != ""}


def _forget_earlier(client, experiment_id: str, run_id: str) -> None:
    """Delete an earlier export of the same run (its parent and nested runs)."""
    if not run_id.replace("-", "").replace("_", "").isalnum():
        return
    for old in client.search_runs([experiment_id], f"tags.`{RUN_TAG}` = '{run_id}'"):
        for child in client.search_runs([experiment_id],
                                        f"tags.`mlflow.parentRunId` = '{old.info.run_id}'"):
            client.delete_run(child.info.run_id)
        client.delete_run(old.info.run_id)


def _log_params(client, mlflow_run_id: str, params: dict) -> None:
    from mlflow.entities import Param

    items = [Param(k, v) for k, v in params.items()]
    for start in range(0, len(items), 100):       # MLflow takes at most 100 params a call
        client.log_batch(mlflow_run_id, params=items[start:start + 100])


def _parent_artifacts(client, parent_id: str, folder: Path, results, outcome) -> str | None:
    from optimizer.report.handover import report_html
    from optimizer.tracking.charts import figures, write_charts

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        report = tmp / "report.html"
        report.write_text(report_html(folder), encoding="utf-8")
        client.log_artifact(parent_id, str(report))
        files, note = write_charts(figures(folder, results, outcome), tmp / "charts")
        for file in files:
            client.log_artifact(parent_id, str(file), "charts")
        doc = {"results": [public_record(r.to_dict(), folder) for r in results]}
        if outcome is not None:
            from optimizer.search.runner import OUTCOME

            doc["outcome"] = public_record(store.read_json(folder / OUTCOME, default={}),
                                           folder)
        client.log_dict(parent_id, doc, "results.json")
    if note:
        client.set_tag(parent_id, "charts", note)
    return note


def _nested(client, experiment_id: str, parent_id: str, result, target, folder: Path) -> None:
    from mlflow.entities import Metric, RunTag

    tags = {"mlflow.parentRunId": parent_id, **result_tags(result, target)}
    child = client.create_run(experiment_id, run_name=result.technique, tags=tags)
    child_id = child.info.run_id
    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, 0) for k, v in result_metrics(result).items()]
    recipe = store.read_json(result.recipe_path, default=None) if result.recipe_path else None
    params = flatten(recipe, run_dir=folder) if isinstance(recipe, dict) else {}
    params.setdefault("technique", result.technique)
    if metrics:
        client.log_batch(child_id, metrics=metrics, tags=[RunTag("metric", result.metric)])
    _log_params(client, child_id, params)
    if result.ok and result.tflite_path and Path(result.tflite_path).is_file():
        client.log_artifact(child_id, result.tflite_path)
    if isinstance(recipe, dict):
        client.log_dict(child_id, public_record(recipe, folder), "recipe.json")
    client.set_terminated(child_id, "FINISHED" if result.ok else "FAILED")


def export_in_child(folder: Path | str, tracking_uri: str, *,
                    workspace: str | None = None) -> dict:
    """Run ``python -m optimizer export mlflow FOLDER --tracking-uri URI --json -`` (MLflow
    and the chart export stay out of the caller's process) and return its summary.
    ``ValueError`` with the command's one-line error; ``access.ReadOnly`` when ``workspace``
    (who asks; None: the command line) does not own the run (a share link's viewer)."""
    from optimizer import access

    access.require_owner(folder, workspace, "Exporting to MLflow")
    run_ref = str(folder)
    command = [sys.executable, "-m", "optimizer", "export", "mlflow", str(run_ref),
               "--tracking-uri", tracking_uri, "--json", "-"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S,
                              env=child_env(), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ValueError(f"the MLflow export did not finish in {TIMEOUT_S} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise ValueError((lines[-1] if lines else f"exit status {done.returncode}")
                         .removeprefix("error: "))
    return json.loads(done.stdout)
