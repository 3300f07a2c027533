"""A scripted evaluator for the search-loop tests: canned results, a fake clock, no TensorFlow."""
from __future__ import annotations

from optimizer.guide.schema import Result
from optimizer.search.loop import BatchReport


class FakeClock:
    """A clock the scripted evaluator advances; the loop reads it instead of real time."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def result(technique, size, accuracy, gzip=None, latency=0.5, convert_s=1.0, eval_s=0.2,
           status="ok", error=None, metric="accuracy", higher_is_better=True) -> Result:
    """A measured trial with the given numbers (gzip defaults to 90% of the size)."""
    if status != "ok":
        return Result(technique=technique, status=status, error=error)
    return Result(technique=technique, size_bytes=int(size),
                  gzip_bytes=int(gzip if gzip is not None else size * 0.9),
                  accuracy=accuracy, metric=metric, higher_is_better=higher_is_better,
                  latency_ms_median=latency, latency_ms_p10=latency, latency_ms_p90=latency,
                  convert_seconds=convert_s, eval_seconds=eval_s)


class ScriptedEvaluator:
    """Returns canned results per trial id and advances the clock per batch.

    ``table`` maps a trial id to a ``Result`` (missing ids fail with "not scripted");
    ``seconds`` maps a batch group to its duration (default ``default_s``) and
    ``epoch_s`` the seconds per epoch it reports for fine-tuning batches. Every call is
    recorded in ``calls`` as (group, [ids], context).
    """

    def __init__(self, table: dict, clock: FakeClock, seconds: dict | None = None,
                 default_s: float = 5.0, epoch_s: float | None = 10.0,
                 folders: dict | None = None):
        self.table, self.clock = table, clock
        self.folders = folders or {}     # batch group -> the folder its report is in
        self.seconds, self.default_s, self.epoch_s = seconds or {}, default_s, epoch_s
        self.calls = []

    def run(self, batch, context):
        self.calls.append((batch.group, batch.ids, context))
        duration = self.seconds.get(batch.group, self.default_s)
        stopped = None
        if self.clock.now + duration > context.deadline:
            duration = max(0.0, context.deadline - self.clock.now)
            stopped = "stopped at the deadline"
        self.clock.now += duration
        results = [] if stopped else [
            self.table.get(i) or Result.failed(i, "not scripted") for i in batch.ids]
        return BatchReport(results=results, stopped=stopped,
                           seconds_per_epoch=self.epoch_s if batch.epochs else None,
                           extra={"folder": str(self.folders[batch.group])}
                           if batch.group in self.folders else {})
