"""Each variant's per-sample predictions, kept in its folder, and the paired tests they allow.

``<spec folder>/predictions.npy`` holds what a variant predicted for every test sample: class
ids (int32) for accuracy and agreement, the float outputs (one row per sample) for RMSE. The
float32 baseline's folder also holds ``truth.npy``, what every variant is scored against: the
labels (class ids, or the regression targets); without labels the truth is the baseline's own
predictions, so there is no ``truth.npy``.

``measured(...)`` is what the engine adds to every ``Result`` (``samples``, ``accuracy_ci``
and, against the baseline, ``accuracy_delta`` from the paired test); ``paired(a, b, base)``
compares any two results of one run on the same samples, from their files (None when a file
is missing: an older run, or a result from elsewhere).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from optimizer.guide import stats

PREDICTIONS = "predictions.npy"
TRUTH = "truth.npy"
CLASS_METRICS = frozenset({"accuracy", "agreement"})


def per_sample(outputs, metric: str) -> np.ndarray:
    """What is kept of a variant's outputs: class ids for accuracy and agreement, the float
    outputs (one row per sample) for RMSE."""
    from optimizer.measuring.accuracy import predictions

    outputs = np.asarray(outputs)
    if metric in CLASS_METRICS:
        return predictions(outputs).astype(np.int32)
    return outputs.reshape(len(outputs), -1).astype(np.float32)


def truth_of(dataset, reference_outputs, metric: str) -> np.ndarray:
    """What every variant is scored against: the labels (class ids or regression targets), or
    without labels the float32 baseline's own predictions (``reference_outputs``)."""
    labels = getattr(dataset, "y_test", None)
    if metric in CLASS_METRICS:
        if labels is not None and metric == "accuracy":
            truth = np.asarray(labels)
            if truth.ndim == 2 and truth.shape[1] > 1:
                truth = truth.argmax(axis=1)
            return truth.reshape(-1).astype(np.int32)
        return per_sample(reference_outputs, metric)
    target = labels if labels is not None else reference_outputs
    target = np.asarray(target, np.float32)
    return target.reshape(len(target), -1)


def _scores(pred: np.ndarray, truth: np.ndarray, metric: str) -> np.ndarray:
    """Per sample: right (bool) for class metrics, the squared error for RMSE."""
    if len(pred) != len(truth):
        raise ValueError(f"{len(pred)} predictions for {len(truth)} test samples")
    if metric in CLASS_METRICS:
        return np.asarray(pred).reshape(-1) == np.asarray(truth).reshape(-1)
    diff = np.asarray(pred, np.float64).reshape(len(pred), -1) - \
        np.asarray(truth, np.float64).reshape(len(truth), -1)
    return np.mean(diff ** 2, axis=1)


def compare(first_pred, second_pred, truth, metric: str) -> stats.Paired:
    """The paired test of ``first`` against ``second`` (predictions on the same samples)."""
    first, second = _scores(first_pred, truth, metric), _scores(second_pred, truth, metric)
    if metric in CLASS_METRICS:
        return stats.compare_correct(first, second)
    return stats.compare_errors(first, second)


def measured(pred, truth, metric: str, base_pred=None) -> dict:
    """A result's ``samples``, ``accuracy_ci`` and, given the baseline's predictions,
    ``accuracy_delta`` (the paired test's record; the baseline itself gets a zero change)."""
    scores = _scores(pred, truth, metric)
    n = int(len(scores))
    if metric in CLASS_METRICS:
        ci = stats.wilson(int(np.sum(scores)), n)
    else:
        ci = stats.bootstrap_rmse(scores)
    out = {"samples": n, "accuracy_ci": [float(ci[0]), float(ci[1])]}
    if base_pred is None:
        out["accuracy_delta"] = stats.Paired(0.0, (0.0, 0.0), 1.0, n, 0, 0).to_dict() \
            if metric in CLASS_METRICS else stats.Paired(0.0, (0.0, 0.0), 1.0, n).to_dict()
    else:
        out["accuracy_delta"] = compare(pred, base_pred, truth, metric).to_dict()
    return out


def save(folder: Path | str, pred, truth=None) -> Path:
    """Write ``predictions.npy`` (and the baseline's ``truth.npy``) into a spec's folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / PREDICTIONS, np.asarray(pred))
    if truth is not None:
        np.save(folder / TRUTH, np.asarray(truth))
    return folder / PREDICTIONS


def _folder(result) -> Path | None:
    path = getattr(result, "tflite_path", None)
    return Path(path).parent if path else None


def _load(path: Path | None):
    if path is None or not path.is_file():
        return None
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def load_predictions(result) -> np.ndarray | None:
    """A result's kept predictions, or None (not kept: an older run, a failed variant)."""
    folder = _folder(result)
    return None if folder is None else _load(folder / PREDICTIONS)


def load_truth(base) -> np.ndarray | None:
    """What a run's variants are scored against, from its float32 ``base`` result's folder."""
    folder = _folder(base)
    if folder is None:
        return None
    truth = _load(folder / TRUTH)
    return truth if truth is not None else _load(folder / PREDICTIONS)


def paired(first, second, base) -> stats.Paired | None:
    """The paired test of two results of one run (``first`` minus ``second``) on the samples
    they share, read from their folders; None when either's predictions are missing."""
    metric = getattr(base, "metric", None) or "accuracy"
    if getattr(first, "metric", metric) != metric or getattr(second, "metric", metric) != metric:
        return None
    a, b, truth = load_predictions(first), load_predictions(second), load_truth(base)
    if a is None or b is None or truth is None or not len(a) == len(b) == len(truth):
        return None
    return compare(a, b, truth, metric)
