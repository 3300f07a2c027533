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
    baseline's outputs for non-classification models), on ``samples`` test samples, with its
    95 % interval ``accuracy_ci`` ([lo, hi]: Wilson for accuracy and agreement, a bootstrap
    for RMSE). ``accuracy_delta`` is this minus the baseline's, in the metric's units
    (fraction, not points), from a paired test on the same samples: ``{"value", "ci": [lo,
    hi], "p_value", "samples", "worse", "better"}`` (``optimizer.guide.stats.Paired``); an
    older run's plain float reads as ``{"value": x, "ci": None, "p_value": None}``. Read it
    with ``delta_value`` / ``delta_ci`` / ``delta_p``. Latency is per single-sample
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
    accuracy_delta: dict | None = None
    samples: int | None = None
    accuracy_ci: list | None = None
    metric: str = "accuracy"
    higher_is_better: bool = True
    latency_ms_median: float | None = None
    latency_ms_p10: float | None = None
    latency_ms_p90: float | None = None
    latency_threads: int | None = None
    latency_invokes: int | None = None
    latency_kernels: str | None = None  # "XNNPACK", "builtin (reference kernels)", ...
    latency_note: str | None = None
    # True on a result read while its run goes on, before its latency is timed (accuracy and
    # size are measured; the latency fields stay empty until they are): never stored as final.
    latency_pending: bool = False
    # The kernel each op of the main graph ran on while timed: "XNNPACK" or "builtin".
    latency_op_kernels: list | None = None
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

    def __setattr__(self, name, value) -> None:
        # one shape for the change against the baseline, however it is set (an older run's
        # float becomes {"value": x, "ci": None, "p_value": None})
        super().__setattr__(name, delta_record(value) if name == "accuracy_delta" else value)

    @property
    def ok(self) -> bool:
        return self.status == Status.OK.value

    @property
    def is_baseline(self) -> bool:
        """True for the float32 baseline's result (the registry's baseline row)."""
        from optimizer.guide.registry import BASELINE
        return self.technique == BASELINE

    @property
    def delta_value(self) -> float | None:
        """The change against the baseline in the metric's units (None: not measured)."""
        return (self.accuracy_delta or {}).get("value")

    @property
    def delta_ci(self) -> list | None:
        """The change's 95 % interval [lo, hi], or None (not recorded: an older run)."""
        return (self.accuracy_delta or {}).get("ci")

    @property
    def delta_p(self) -> float | None:
        """The paired test's p-value of the change, or None (not recorded: an older run)."""
        return (self.accuracy_delta or {}).get("p_value")

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


def delta_record(value) -> dict | None:
    """A result's ``accuracy_delta`` as its dict: a paired test's record as it is, an older
    run's plain number as ``{"value": x, "ci": None, "p_value": None}``, None as None."""
    if value is None:
        return None
    if isinstance(value, dict):
        out = dict(value)
        out.setdefault("value", None)
        out.setdefault("ci", None)
        out.setdefault("p_value", None)
        return out
    if isinstance(value, bool):
        raise ValueError(f"accuracy_delta must be a number or a paired test's record, not "
                         f"{value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"accuracy_delta must be a number or a paired test's record, not "
                         f"{value!r}") from None
    return {"value": number, "ci": None, "p_value": None}


#: The numeric columns ``results_frame`` adds from the intervals and the paired test.
FLAT_COLUMNS = ("delta_low", "delta_high", "delta_p", "accuracy_low", "accuracy_high")


def results_frame(results) -> "pandas.DataFrame":  # noqa: F821 - pandas is imported lazily
    """A DataFrame of results with derived columns against the baseline row.

    Adds ``size_ratio`` and ``gzip_ratio`` (baseline bytes / these bytes, so 4.0 means 4x
    smaller), ``is_baseline``, and keeps the input order. Accepts ``Result`` objects or dicts.
    The paired test's record is flattened into numbers: ``accuracy_delta`` is its value,
    ``delta_low`` / ``delta_high`` / ``delta_p`` its interval and p-value, ``accuracy_low`` /
    ``accuracy_high`` the metric's own interval (NaN where not recorded).
    """
    import pandas as pd

    records = [r if isinstance(r, Result) else Result.from_dict(r) for r in results]
    rows = []
    for r in records:
        row = r.to_dict()
        ci, delta_ci = r.accuracy_ci or (None, None), r.delta_ci or (None, None)
        row.update(accuracy_delta=r.delta_value, delta_low=delta_ci[0], delta_high=delta_ci[1],
                   delta_p=r.delta_p, accuracy_low=ci[0], accuracy_high=ci[1])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*RESULT_FIELDS, *FLAT_COLUMNS])
    for column in ("accuracy_delta", *FLAT_COLUMNS):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    from optimizer.guide.registry import BASELINE
    frame["is_baseline"] = frame["technique"] == BASELINE
    base = frame[frame["is_baseline"] & (frame["status"] == Status.OK.value)]
    if len(base):
        b = base.iloc[0]
        frame["size_ratio"] = b["size_bytes"] / frame["size_bytes"]
        frame["gzip_ratio"] = b["gzip_bytes"] / frame["gzip_bytes"]
    else:
        frame["size_ratio"] = float("nan")
        frame["gzip_ratio"] = float("nan")
    return frame
