"""What goes to an experiment tracker, without MLflow: the recipe flattened, the measured
metrics under fixed names (nothing unmeasured), tags; and the one-line refusal when MLflow is
not installed."""
from __future__ import annotations

import pytest

from optimizer import paths
from optimizer.cli import main
from optimizer.guide.schema import Result
from optimizer.tracking import mlflow_export
from optimizer.tracking.records import MAX_VALUE, flatten, result_metrics, result_tags


def test_a_recipe_flattens_to_dotted_text_without_server_paths():
    root = paths.workspace()
    recipe = {"technique": "integer", "settings": {"calibration": {"samples": 200}},
              "steps": ["load", "convert"], "model": {"ref": f"{root}/sessions/x/up/m.keras",
                                                      "data": None},
              "empty": {}, "long": "x" * (MAX_VALUE + 10)}
    params = flatten(recipe)
    assert params["technique"] == "integer"
    assert params["settings.calibration.samples"] == "200"
    assert params["steps"] == '["load", "convert"]'
    assert params["model.ref"] == "m.keras" and params["model.data"] == ""
    assert params["empty"] == "{}"
    assert len(params["long"]) == MAX_VALUE and params["long"].endswith("...")


def test_metrics_are_the_measured_numbers_only():
    measured = Result("integer", accuracy=0.97, accuracy_delta=-0.01, size_bytes=1000,
                      gzip_bytes=800, latency_ms_median=0.5, latency_ms_p10=0.4,
                      latency_ms_p90=0.7,
                      readiness={"ready": True, "method": "interpreted",
                                 "memory": {"arena_bytes": 4096, "flash_bytes": 1000}})
    assert result_metrics(measured) == {
        "accuracy": 0.97, "accuracy_delta": -0.01, "size_bytes": 1000.0, "gzip_bytes": 800.0,
        "latency_ms_p50": 0.5, "latency_ms_p10": 0.4, "latency_ms_p90": 0.7,
        "arena_bytes": 4096.0, "flash_bytes": 1000.0}
    failed = Result.failed("qat", "out of memory")
    assert result_metrics(failed) == {}
    assert result_metrics(Result("x", accuracy=float("nan"))) == {}
    for ci in ([0.95, 0.99], {"low": 0.95, "high": 0.99}):
        with_ci = Result("x", accuracy=0.97)
        with_ci.accuracy_ci = ci          # another issue adds this field to results
        assert result_metrics(with_ci) == {"accuracy": 0.97, "accuracy_ci_low": 0.95,
                                           "accuracy_ci_high": 0.99}


def test_tags_say_where_it_ran_and_why_it_failed():
    result = Result("integer", executor="local", node="vm", cpu="AMD EPYC",
                    latency_kernels="XNNPACK", readiness={"ready": False, "method": "rules"})
    tags = result_tags(result, "edgetpu")
    assert tags["target"] == "edgetpu" and tags["executor"] == "local" and tags["node"] == "vm"
    assert tags["readiness"] == "not ready (rules)" and "error" not in tags
    unknown = Result("integer", readiness={"ready": None, "method": "compiled"})
    assert result_tags(unknown, "npu-qualcomm")["readiness"] == "could not check (compiled)"
    root = paths.workspace()
    failed = result_tags(Result.failed("qat", f"the job failed (log: {root}/s/r/job-1.log)"),
                         None)
    assert str(root) not in failed["error"] and "target" not in failed


def test_export_without_mlflow_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(mlflow_export.importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlflow" else object())
    assert main(["export", "mlflow", "some-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: MLflow is not installed on this server; run `make setup-mlflow` "
                   "(opt-in) to enable the MLflow export")
    with pytest.raises(ValueError, match="make setup-mlflow"):
        mlflow_export.export_mlflow(paths.workspace())


def test_an_unknown_run_is_one_line_and_exit_2(capsys):
    if mlflow_export.mlflow_missing():
        pytest.skip("MLflow is not installed: run `make setup-mlflow`")
    assert main(["export", "mlflow", "no-such-run"]) == 2
    assert "no run or search with id 'no-such-run'" in capsys.readouterr().err


def test_the_default_store_is_sqlite_in_the_workspace():
    assert mlflow_export.default_tracking_uri() == \
        f"sqlite:///{paths.workspace().resolve() / 'mlflow.db'}"
    assert mlflow_export._artifact_root("sqlite:////srv/ws/mlflow.db") == \
        "file:///srv/ws/mlflow-artifacts"
    assert mlflow_export._artifact_root("http://mlflow.example:5000") is None
