"""The job file: what one worker process is asked to do (``<run_dir>/<id>.json``).

The contract between the runs that plan jobs (``optimizer.runs``, ``optimizer.search``) and the
engine that runs them (``python -m optimizer worker --job FILE``). Job kinds are defined here,
once; the engine dispatches on them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

from optimizer.artifacts import store


class JobKind(str, Enum):
    """What a job runs: the baseline and plain post-training conversions, one retraining
    technique (with its ``+ptq`` conversions), a search's selective int8 repair, or the
    per-layer sensitivity pass of the precision search (each layer at each precision)."""

    BASELINE = "baseline"
    RETRAINING = "retraining"
    SELECTIVE = "selective"
    SENSITIVITY = "sensitivity"

    def __str__(self) -> str:
        return self.value


BASELINE = JobKind.BASELINE
RETRAINING = JobKind.RETRAINING
SELECTIVE = JobKind.SELECTIVE
SENSITIVITY = JobKind.SENSITIVITY


#: Where the baseline job leaves the float32 model's test outputs (the reference of every
#: other result: agreement / error for unlabelled data).
REFERENCE_OUTPUTS = "outputs.npy"


@dataclass(frozen=True)
class JobSpec:
    """One job as its worker reads it from ``<run_dir>/<id>.json``.

    ``reference`` (retraining jobs) carries the float32 baseline: its metric value (for
    ``accuracy_delta``) and the path of its test outputs (the reference for agreement).
    """

    id: str
    kind: str
    specs: tuple
    model: str
    data: str | None
    settings: tuple
    run_dir: str
    events: str | None
    reference: dict | None = None

    @property
    def path(self) -> Path:
        return Path(self.run_dir) / f"{self.id}.json"

    @property
    def log_path(self) -> Path:
        return Path(self.run_dir) / f"{self.id}.log"

    @property
    def results_path(self) -> Path:
        return Path(self.run_dir) / f"{self.id}.results.json"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["specs"], data["settings"] = list(self.specs), list(self.settings)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "JobSpec":
        return cls(**{**data, "specs": tuple(data["specs"]),
                      "settings": tuple(data.get("settings") or ())})

    @classmethod
    def load(cls, path: Path | str) -> "JobSpec":
        data = store.read_json(path)
        if not isinstance(data, dict):
            raise ValueError(f"cannot read job file {path}; it must be JSON written by the run")
        return cls.from_dict(data)

    def with_reference(self, reference: dict | None) -> "JobSpec":
        return JobSpec(**{**asdict(self), "reference": reference})
