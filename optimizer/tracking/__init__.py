"""Taking runs and searches to experiment trackers: MLflow (issue 23). Optional: MLflow is an
opt-in install (``make setup-mlflow``); importing this package never imports it.

* ``records`` -- a result as MLflow params (the recipe flattened), metrics and tags;
* ``charts`` -- a run's charts as PNG files (kaleido), or as HTML when PNG export cannot run;
* ``mlflow_export`` -- one parent run per run or search, one nested run per variant or trial.
"""
from __future__ import annotations

from optimizer.lazy import lazy_getattr

_LAZY = {
    "export_mlflow": "optimizer.tracking.mlflow_export",
    "export_in_child": "optimizer.tracking.mlflow_export",
    "mlflow_missing": "optimizer.tracking.mlflow_export",
    "default_tracking_uri": "optimizer.tracking.mlflow_export",
    "SETUP_COMMAND": "optimizer.tracking.mlflow_export",
    "result_metrics": "optimizer.tracking.records",
    "flatten": "optimizer.tracking.records",
}

__getattr__ = lazy_getattr("optimizer.tracking", _LAZY, globals())

__all__ = list(_LAZY)
