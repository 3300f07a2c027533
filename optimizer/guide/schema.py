"""One result schema for every run: the record each technique produces, and its DataFrame.

Plots, reports, history, the CLI and the search all read ``Result`` records (or the DataFrame
``results_frame`` builds from them). Every numeric field is a measurement or ``None``; nothing
here estimates. The baseline (``float32``) row is always present in a run's results.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum


class Status(str, Enum):
    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value


class Engine(str, Enum):
    """Which tool produced the .tflite file."""

    CONVERTER = "tflite-converter"
    LITERT_QUANTIZER = "litert-quantizer"

    def __str__(self) -> str:
        return self.value


@dataclass
class Result:
    """The measured outcome of one technique spec on one model.

    Sizes are bytes on disk and gzip level 9 bytes. ``accuracy`` is the metric on the test split
    measured through the LiteRT interpreter (``metric`` says which: "accuracy" with labels,
    "agreement" with the baseline's predictions when there are none, "rmse" against the
    baseline's outputs for non-classification models). ``accuracy_delta`` is this minus the
    baseline's, in the metric's units (fraction, not points). Latency is per single-sample
    ``invoke()`` in a separate LiteRT-only process after warm-up; median and p10/p90 of all
    timed invokes.
    """

    technique: str
    status: str = Status.OK.value
    error: str | None = None
    model: str = ""
    pipeline: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    size_bytes: int | None = None
    gzip_bytes: int | None = None
    accuracy: float | None = None
    accuracy_delta: float | None = None
    metric: str = "accuracy"
    higher_is_better: bool = True
    latency_ms_median: float | None = None
    latency_ms_p10: float | None = None
    latency_ms_p90: float | None = None
    latency_threads: int | None = None
    latency_invokes: int | None = None
    latency_kernels: str | None = None  # "XNNPACK", "builtin (reference kernels)", ...
    latency_note: str | None = None
    input_dtype: str | None = None
    output_dtype: str | None = None
    engine: str | None = None
    tflite_path: str | None = None
    recipe_path: str | None = None
    sparsity: float | None = None
    max_unique_weights_per_channel: int | None = None
    ops: list = field(default_factory=list)
    prep_seconds: float | None = None
    convert_seconds: float | None = None
    eval_seconds: float | None = None
    notes: list = field(default_factory=list)
    measured_on: str | None = None
    # Where it ran: the executor ("local" or "ray"), the node its latency was timed on
    # and that node's CPU model (results of one comparison should share one node).
    executor: str | None = None
    node: str | None = None
    cpu: str | None = None
    # The target readiness check's verdict (optimizer.measuring.readiness.Readiness.to_dict()).
    readiness: dict | None = None
    # The name shown where the technique id would mislead: "as uploaded (int8)" for an
    # already-quantized .tflite measured as it was uploaded (in the float32 baseline's place).
    label: str | None = None
    # Retraining techniques: layers holding weights that the TFMOT transform wrapped, all
    # layers holding weights, and the share of the weights in the wrapped ones (0..1).
    transformed_layers: int | None = None
    weight_layers: int | None = None
    transformed_weight_fraction: float | None = None
    # Each layer's precision as the produced file has it ({layer: "int8" | "int16" | "float"},
    # read from its tensor types: optimizer.measuring.precision) and how many layers have each.
    layer_precision: dict | None = None
    precision_counts: dict | None = None

    @property
    def ok(self) -> bool:
        return self.status == Status.OK.value

    @property
    def shown_as(self) -> str:
        """The name to show: ``label`` when the run recorded one, else the technique id."""
        return self.label or self.technique

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        """Build from a dict, ignoring unknown keys (older or newer result files still load)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def failed(cls, technique: str, error: str, model: str = "",
               status: Status = Status.ERROR) -> "Result":
        """A result for a technique that could not run: the error is one line, cause and fix."""
        return cls(technique=technique, status=status.value, error=error, model=model)


RESULT_FIELDS = tuple(f.name for f in fields(Result))


def results_frame(results) -> "pandas.DataFrame":  # noqa: F821 - pandas is imported lazily
    """A DataFrame of results with derived columns against the baseline row.

    Adds ``size_ratio`` and ``gzip_ratio`` (baseline bytes / these bytes, so 4.0 means 4x
    smaller), ``is_baseline``, and keeps the input order. Accepts ``Result`` objects or dicts.
    """
    import pandas as pd

    rows = [r.to_dict() if isinstance(r, Result) else Result.from_dict(r).to_dict() for r in results]
    frame = pd.DataFrame(rows, columns=list(RESULT_FIELDS))
    frame["is_baseline"] = frame["technique"] == "float32"
    base = frame[frame["is_baseline"] & (frame["status"] == Status.OK.value)]
    if len(base):
        b = base.iloc[0]
        frame["size_ratio"] = b["size_bytes"] / frame["size_bytes"]
        frame["gzip_ratio"] = b["gzip_bytes"] / frame["gzip_bytes"]
    else:
        frame["size_ratio"] = float("nan")
        frame["gzip_ratio"] = float("nan")
    return frame
