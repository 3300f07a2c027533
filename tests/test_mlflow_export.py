"""``python -m optimizer export mlflow`` of a real run and a real search, read back with
MLflow's own client: a parent per run or search, a nested run per variant or trial, with the
metrics, params, artifacts and tags the issue names. One tiny run and one 45-second search
(tabular-mlp) are shared by the module. Skipped, with the reason, without
``make setup-mlflow``."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.tracking.mlflow_export import EXPERIMENT, RUN_TAG, mlflow_missing

pytestmark = [pytest.mark.slow, pytest.mark.cost(150),
              pytest.mark.skipif(mlflow_missing() is not None,
                                 reason=f"{mlflow_missing()} (CI runs it)")]

ROOT = Path(__file__).resolve().parents[1]


def _cli(workspace: Path, *args, timeout=900):
    env = {**os.environ, "OPTIMIZER_WORKSPACE": str(workspace)}
    done = subprocess.run([sys.executable, "-m", "optimizer", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _record(workspace: Path, folder: Path) -> str:
    code = ("import sys; from optimizer.workspace.index import record; "
            "print(record(sys.argv[1]))")
    env = {**os.environ, "OPTIMIZER_WORKSPACE": str(workspace)}
    return subprocess.run([sys.executable, "-c", code, str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A run (float32, float16) exported twice to the default store (the second replaces the
    first) and a search for a microcontroller exported to a store named by --tracking-uri."""
    workspace = tmp_path_factory.mktemp("mlflow-ws")
    owner = secrets.token_urlsafe(16)
    run_dir = workspace / "sessions" / owner / "runs" / "20261201-120000-run"
    run_dir.parent.mkdir(parents=True)
    _cli(workspace, "run", "--model", "tabular-mlp", "--technique", "float16",
         "--out", str(run_dir), "--json", str(workspace / "run.json"))
    search_dir = workspace / "sessions" / owner / "searches" / "20261201-120100-search"
    _cli(workspace, "search", "--model", "tabular-mlp", "--target", "mcu",
         "--max-accuracy-drop", "0.05", "--time-budget", "45", "--set", "finetune.epochs=1",
         "--out", str(search_dir), "--json", str(workspace / "search.json"))
    run_id, search_id = _record(workspace, run_dir), _record(workspace, search_dir)
    default = f"sqlite:///{workspace.resolve() / 'mlflow.db'}"
    uri = f"sqlite:///{workspace / 'store' / 'mlflow.db'}"
    (workspace / "store").mkdir()
    first = _cli(workspace, "export", "mlflow", run_id)          # the default store
    summaries = {"again": json.loads(_cli(workspace, "export", "mlflow", run_id, "--json"))}
    summaries["search"] = json.loads(_cli(workspace, "export", "mlflow", search_id,
                                          "--tracking-uri", uri, "--json", "-"))
    return {"default": default, "uri": uri, "workspace": workspace, "summaries": summaries,
            "first": first, "run_id": run_id, "search_id": search_id,
            "run": json.loads((workspace / "run.json").read_text()),
            "search": json.loads((workspace / "search.json").read_text())}


def _client(uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _family(client, run_id: str):
    experiment = client.get_experiment_by_name(EXPERIMENT)
    parents = client.search_runs([experiment.experiment_id], f"tags.`{RUN_TAG}` = '{run_id}'")
    assert len(parents) == 1, [p.info.run_id for p in parents]   # a re-export replaced it
    parent = parents[0]
    children = client.search_runs([experiment.experiment_id],
                                  f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    return parent, {c.info.run_name: c for c in children}


def _artifacts(client, run_id, path=None):
    return sorted(a.path for a in client.list_artifacts(run_id, path))


def test_a_run_is_a_parent_with_one_nested_run_per_variant(exported):
    client = _client(exported["default"])
    parent, children = _family(client, exported["run_id"])
    assert exported["summaries"]["again"]["parent_run_id"] == parent.info.run_id
    results = {r["technique"]: r for r in exported["run"]["results"]}
    assert set(children) == set(results) == {"float32", "float16"}
    for technique, child in children.items():
        measured = results[technique]
        metrics = child.data.metrics
        assert metrics["accuracy"] == pytest.approx(measured["accuracy"])
        assert metrics["size_bytes"] == measured["size_bytes"]
        assert metrics["gzip_bytes"] == measured["gzip_bytes"]
        assert metrics["latency_ms_p50"] == pytest.approx(measured["latency_ms_median"])
        assert metrics["latency_ms_p10"] == pytest.approx(measured["latency_ms_p10"])
        assert metrics["latency_ms_p90"] == pytest.approx(measured["latency_ms_p90"])
        assert "arena_bytes" not in metrics              # no readiness check ran for this run
        params = child.data.params
        assert params["technique"] == technique and params["engine"] == measured["engine"]
        assert params["model.name"] == "tabular-mlp" and params["command"].startswith(
            "python -m optimizer run")
        assert "/sessions/" not in json.dumps(params)   # no server path leaves
        tags = child.data.tags
        assert tags["executor"] == "local" and tags["node"] == measured["node"]
        assert tags["status"] == "ok" and child.info.status == "FINISHED"
        assert _artifacts(client, child.info.run_id) == ["model.tflite", "recipe.json"]
        assert client.download_artifacts(child.info.run_id, "model.tflite") and \
            Path(client.download_artifacts(child.info.run_id, "model.tflite")).stat().st_size \
            == measured["size_bytes"]
    tags = parent.data.tags
    assert tags["optimizer.kind"] == "run" and tags["model"] == "tabular-mlp"
    assert tags["version.tensorflow"] and tags["executor"] == "local" and tags["node"]
    assert parent.data.params["techniques"] == '["float16"]'
    assert _artifacts(client, parent.info.run_id) == ["charts", "report.html", "results.json"]
    charts = _artifacts(client, parent.info.run_id, "charts")
    assert charts == ["charts/accuracy-vs-latency.png", "charts/accuracy-vs-size.png",
                      "charts/sizes.png"], parent.data.tags.get("charts")
    png = Path(client.download_artifacts(parent.info.run_id, "charts/sizes.png")).read_bytes()
    assert png.startswith(b"\x89PNG")


def test_a_search_is_a_parent_with_one_nested_run_per_trial(exported):
    client = _client(exported["uri"])
    parent, children = _family(client, exported["search_id"])
    trials = {t["technique"]: t for t in exported["search"]["trials"]}
    assert set(children) == set(trials) and len(children) >= 2
    assert parent.data.tags["target"] == "mcu" and parent.data.tags["optimizer.kind"] == "search"
    assert parent.data.params["target"] == "mcu"
    checked = [t for t in trials.values() if (t.get("readiness") or {}).get("memory")]
    assert checked                                        # a microcontroller search checks them
    for trial in checked:
        metrics = children[trial["technique"]].data.metrics
        assert metrics["arena_bytes"] == trial["readiness"]["memory"]["arena_bytes"]
        assert metrics["flash_bytes"] == trial["readiness"]["memory"]["flash_bytes"]
        assert children[trial["technique"]].data.tags["target"] == "mcu"
    assert "charts/search-trials.png" in _artifacts(client, parent.info.run_id, "charts")


def test_the_default_store_is_sqlite_in_the_workspace(exported):
    db = exported["workspace"] / "mlflow.db"
    assert db.is_file() and f"to sqlite:///{db.resolve()}: MLflow run " in exported["first"]
    assert exported["summaries"]["again"]["tracking_uri"] == exported["default"]
    assert (exported["workspace"] / "mlflow-artifacts").is_dir()
    experiment = _client(exported["uri"]).get_experiment_by_name(EXPERIMENT)
    runs = _client(exported["uri"]).search_runs([experiment.experiment_id])
    assert {r.data.tags.get(RUN_TAG) for r in runs} == {exported["search_id"], None}
