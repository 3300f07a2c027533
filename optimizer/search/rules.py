"""The search's two judgements before starting a batch: can it still win, and does it fit.

``prune_batch`` removes candidates that cannot beat the best trial so far on the objective (the
smallest size that meets every goal), each with the reason:

* **size floor** (``size_floor``): what a retraining technique's file size is follows from its
  row's ``size_class`` (``guide.technique.SizeClass``): pruning and clustering only zero or
  share weight values, so on disk such a file is the size of the same conversion of the float
  model; quantization-aware training produces the same int8 layout as post-training int8; a
  technique of unbounded size class is never skipped for its size. Keeping layers in float
  only adds bytes to int8. The floor is that measured size less the class's margin (0.5%, 2%
  for QAT, from how far apart such files were measured; ``REPAIR_MARGIN``); a trial whose
  floor is the best trial itself could at most tie with it. Measured as gzip, only the repair
  has a floor: pruning, clustering and QAT exist to shrink the download.
* **harsher knob**: once a fine-tune at a milder level (lower sparsity, more clusters) missed
  the accuracy budget with every conversion, the harsher level is not tried: it removes more.
* **conversion already failed**: a model whose size class is the conversion's (pruned or
  clustered: the float model's graph, weights changed in value only) has the float model's
  ops, so a conversion that failed on the float model (e.g. integer_only on an op without
  int8 kernel) fails again.

``Timing`` keeps what this search measured (job start-up, seconds per conversion, seconds per
fine-tuning epoch) and estimates a batch from it; nothing is assumed that was not measured
here, and an estimate says which parts it could not measure yet.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from optimizer.guide.registry import TechniqueId, parse_spec
from optimizer.guide.schema import Result
from optimizer.guide.stage_handlers import knob
from optimizer.guide.technique import SizeClass
from optimizer.search.candidates import Batch, Kind
from optimizer.search.pareto import size_of
from optimizer.text import N_, Message, figure, joined, msg

T = TechniqueId
#: How far below the measured int8 size the repair (the worst layers kept in float) can end
#: up: the debugger's int8 (its base) measured -0.2%. The floor sits this fraction below the
#: measured size, so the rule never skips a trial that could win (retraining techniques: their
#: ``SizeClass.margin``).
REPAIR_MARGIN = 0.005


@dataclass(frozen=True)
class Skip:
    """A candidate that was not run, and why."""

    id: str
    reason: str         # a Message where the search wrote it (English text either way)
    group: str = ""

    def to_dict(self) -> dict:
        """JSON: the English ``reason`` and, for a Message, its data (``reason_data``) for a
        reader in another language."""
        return {"technique": self.id, "reason": str(self.reason), "group": self.group,
                "reason_data": self.reason.to_dict() if isinstance(self.reason, Message)
                else None}

    @classmethod
    def from_dict(cls, data: dict) -> "Skip":
        """Rebuild from ``to_dict`` (an older file's English reason as it is)."""
        return cls(data["technique"], Message.from_dict(data.get("reason_data"))
                   or data["reason"], data.get("group", ""))


#: (message ids) a size basis named after a size
_UNITS = {"raw": N_("on disk"), "gzip": N_("gzipped")}


def _by_id(trials) -> dict:
    return {r.technique: r for r in trials}


def size_floor(candidate, trials, measure: str = "raw") -> tuple[int | None, str, str | None]:
    """(the smallest size ``candidate`` can have, the reason, the trial it is measured on),
    from measured trials; (None, "", None) when nothing measured bounds it."""
    by_id = _by_id(trials)
    if candidate.kind == Kind.REPAIR:
        ref, margin = by_id.get(candidate.spec), REPAIR_MARGIN
        why = msg("keeping layers in float only adds bytes to the int8 file")
    else:
        spec = parse_spec(candidate.spec)
        size_class = spec.technique.size_class
        if candidate.kind != Kind.RETRAINING or measure != "raw" or size_class.margin is None:
            return None, "", None
        ref, margin = by_id.get(spec.conversion.value), size_class.margin
        why = msg(size_class.why, what=msg(spec.technique.action),
                  conversion=spec.conversion.value)
    if ref is None or not ref.ok:
        return None, "", None
    size = size_of(ref, measure)
    if size is None:
        return None, "", None
    unit = msg(_UNITS["raw" if measure == "raw" else "gzip"])
    return int(size * (1 - margin)), msg("{why} (measured {size} {unit})", why=why,
                                         size=figure(size, "size"), unit=unit), ref.technique


def best_trial(trials, goals, measure: str, eligible, objective: str = "size") -> Result | None:
    """The trial that meets every goal with the smallest size (ties: better accuracy, then
    lower latency), or with ``objective="accuracy"`` the most accurate one (ties: smaller,
    then faster); None when none does."""
    by_id = _by_id(trials)
    base = by_id.get(T.FLOAT32.value)
    if base is None or not base.ok or goals is None:
        return None
    feasible = [r for r in trials if r.ok and r.technique in eligible
                and size_of(r, measure) is not None and goals.is_met(base, r)]
    if not feasible:
        return None
    sign = -1.0 if base.higher_is_better else 1.0

    def key(r: Result):
        latency = r.latency_ms_median if r.latency_ms_median is not None else math.inf
        if objective == "accuracy":
            return (sign * float(r.accuracy or 0.0), size_of(r, measure), latency)
        return (size_of(r, measure), sign * float(r.accuracy or 0.0), latency)

    return min(feasible, key=key)


def _knob_values(knobs) -> dict:
    out = {}
    for pair in knobs:
        key, value = str(pair).split("=", 1)
        out[key] = float(value)
    return out


def _milder_missed(batch: Batch, trials, goals, ran) -> str | None:
    """The reason to skip ``batch`` when a batch of the same fine-tune at a milder knob level
    (``ran``: the batches run so far) missed the accuracy budget with every conversion."""
    if batch.kind != Kind.RETRAINING or not batch.knobs or goals is None or \
            goals.accuracy is None:
        return None
    by_id = _by_id(trials)
    base = by_id.get(T.FLOAT32.value)
    family, mine = batch.group.split("[")[0], _knob_values(batch.knobs)
    for other in ran:
        if other.kind != Kind.RETRAINING:
            continue
        theirs = _knob_values(other.knobs)
        if other.group.split("[")[0] != family or set(theirs) != set(mine) or theirs == mine:
            continue
        if not all(theirs[k] == mine[k] or knob(k).is_harsher(theirs[k], mine[k])
                   for k in mine):
            continue
        done = [by_id.get(c.id) for c in other.candidates]
        if done and all(r is not None and r.ok and not goals.accuracy.is_met(base, r)
                        for r in done):
            return msg("{milder} already missed the accuracy budget with every conversion; "
                       "{group} removes more, so it would lose more accuracy",
                       milder=other.group, group=batch.group)
    return None


def _failed_conversion(candidate, trials) -> str | None:
    if candidate.kind != Kind.RETRAINING:
        return None
    spec = parse_spec(candidate.spec)
    if spec.technique.size_class != SizeClass.SAME_AS_CONVERSION:
        return None
    ref = _by_id(trials).get(spec.conversion.value)
    if ref is not None and ref.status == "error":
        return msg("{conversion} already failed on the float model, whose ops a pruned or "
                   "clustered model keeps: {error}", conversion=spec.conversion.value,
                   error=ref.error)
    return None


def prune_batch(batch: Batch, trials, goals, measure: str, eligible,
                ran=(), objective: str = "size") -> tuple[Batch, list]:
    """The batch without the candidates that cannot beat the best so far, and their ``Skip``s.

    ``ran`` are the batches already run (for the harsher-knob rule). The size floor only
    prunes when the objective is size: a bigger file can still be the more accurate one.
    """
    skips: list[Skip] = []
    harsher = _milder_missed(batch, trials, goals, ran)
    if harsher:
        return batch.without(batch.ids), [Skip(c.id, harsher, batch.group)
                                          for c in batch.candidates]
    best = best_trial(trials, goals, measure, eligible) if objective == "size" else None
    best_size = size_of(best, measure) if best is not None else None
    for cand in batch.candidates:
        failed = _failed_conversion(cand, trials)
        if failed:
            skips.append(Skip(cand.id, failed, batch.group))
            continue
        if best_size is None:
            continue
        floor, why, ref = size_floor(cand, trials, measure)
        # the same layout as the best itself can at most tie with it: that does not beat it
        if floor is not None and (floor >= best_size or ref == best.technique):
            unit = msg(_UNITS["raw" if measure == "raw" else "gzip"])
            skips.append(Skip(cand.id, msg("cannot beat {best} ({size} {unit}): {why}",
                                           best=best.technique, size=figure(best_size, "size"),
                                           unit=unit, why=why), batch.group))
    return batch.without([s.id for s in skips]), skips


# -- time --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """How long a batch is expected to take: seconds (None before anything was measured),
    ``unknown`` when a part (fine-tuning) was not measured yet, and the text saying how (a
    Message)."""

    seconds: float | None
    text: str
    unknown: bool = False


@dataclass
class Timing:
    """What this search measured: job start-up, seconds per conversion (convert + evaluate,
    by conversion type, QAT models apart), seconds per fine-tuning epoch (by stages)."""

    startup_s: float | None = None
    conversion_s: dict = field(default_factory=dict)    # "integer" / "qat:integer" -> seconds
    epoch_s: dict = field(default_factory=dict)         # group -> (stages, seconds per epoch)

    @staticmethod
    def _key(batch: Batch, spec: str) -> str:
        parsed = parse_spec(spec)
        qat = batch.kind == Kind.RETRAINING and parsed.quantization_aware
        return ("qat:" if qat else "") + parsed.conversion.value

    def record(self, batch: Batch, results, report, wall_s: float) -> None:
        """Learn from one finished batch (its wall time and its results' own timings)."""
        spent = 0.0
        specs = {c.id: c.spec for c in batch.candidates}
        for r in results:
            if not r.ok or r.convert_seconds is None or r.technique not in specs:
                continue
            seconds = float(r.convert_seconds) + float(r.eval_seconds or 0.0)
            spent += seconds
            key = self._key(batch, specs[r.technique])
            self.conversion_s[key] = max(seconds, self.conversion_s.get(key, 0.0))
        if batch.kind == Kind.POST_TRAINING and self.startup_s is None:
            self.startup_s = max(0.0, wall_s - spent)
        if report.seconds_per_epoch:
            self.epoch_s[batch.group] = (tuple(batch.stages), float(report.seconds_per_epoch))

    def _conversion(self, batch: Batch, cand) -> tuple[float, bool]:
        """(seconds, measured for this very conversion type) for one candidate."""
        key = self._key(batch, cand.spec)
        if key in self.conversion_s:
            return self.conversion_s[key], True
        plain = key.split(":")[-1]
        pool = [v for k, v in self.conversion_s.items() if k.split(":")[-1] == plain] or \
            list(self.conversion_s.values())
        return (max(pool) if pool else 0.0), False

    def estimate(self, batch: Batch, max_float_layers: int = 5) -> Estimate:
        """The expected seconds of ``batch`` from this search's measurements, and how."""
        if self.startup_s is None:
            return Estimate(None, msg("nothing measured yet"), True)
        if batch.kind == Kind.SENSITIVITY:
            return Estimate(self.startup_s, msg(
                "start-up {seconds} (measured) + the per-layer pass (not measured yet)",
                seconds=figure(self.startup_s, "seconds")), True)
        parts, total = [msg("start-up {seconds} (measured on the baseline job)",
                            seconds=figure(self.startup_s, "seconds"))], self.startup_s
        if batch.kind == Kind.REPAIR:
            per, _ = self._conversion(batch, batch.candidates[0])
            count = 1 + max_float_layers
            parts.append(msg("{count} int8 conversions x {seconds} (measured)",
                             count=figure(count), seconds=figure(per, "seconds")))
            total += count * per
        else:
            seconds = [self._conversion(batch, c)[0] for c in batch.candidates]
            if sum(seconds):
                parts.append(msg("{count} conversions, {seconds} (measured per conversion "
                                 "type)", count=figure(len(seconds)),
                                 seconds=figure(sum(seconds), "seconds")))
                total += sum(seconds)
        unknown = False
        if batch.epochs:
            same = {g: v for g, (stages, v) in self.epoch_s.items()
                    if stages == tuple(batch.stages)}
            pool = same or {g: v for g, (_, v) in self.epoch_s.items()}
            if pool:
                source = max(pool, key=pool.get)
                parts.append(msg("{epochs} epochs x {seconds} (measured on {source})",
                                 epochs=figure(batch.epochs),
                                 seconds=figure(pool[source], "seconds"), source=source)
                             if same else
                             msg("{epochs} epochs x {seconds} (measured on {source}, the "
                                 "slowest fine-tune so far)", epochs=figure(batch.epochs),
                                 seconds=figure(pool[source], "seconds"), source=source))
                total += batch.epochs * pool[source]
            else:
                unknown = True
                parts.append(msg("{epochs} fine-tuning epochs not measured yet in this "
                                 "search: it is stopped if, after its first epoch, it is "
                                 "projected to end after the time budget",
                                 epochs=figure(batch.epochs)))
        return Estimate(total, msg("about {seconds}: {parts}", seconds=figure(total, "seconds"),
                                   parts=joined(parts, " + ")), unknown)
