"""How a search repairs post-training int8 that misses the accuracy budget: the precision
strategies, and the trials each one proposes.

``SearchRequest.precision_strategy`` picks one:

* ``sensitivity`` (the default): one pass measures each layer at each precision the target
  allows (``engine.sensitivity``), the solver (``search.precision``) proposes the cheapest
  mixed-precision plan predicted to meet the budget, a real trial verifies it, and the next
  plan follows only if it missed;
* ``op-type``: one op type at a time moved to a higher precision (int16, then float where the
  target runs float ops), then the op types that helped most accumulated, then every layer at
  the highest precision: like Intel Neural Compressor's basic strategy, which also tries op
  types before single ops. Op types are tried in order of their share of the model's weights
  (largest first; INC's TensorFlow capability lists the weight ops first), ties in graph order;
* ``keep-float``: the selective-quantization repair (the worst layers by per-layer int8 error
  kept in float, ``engine.selective``), where the target runs float ops;
* ``none``: no repair.

The target filters the choices before anything runs (``TargetInfo.layer_precisions``):
integer-only targets never get ``float`` and plans with integer input and output; ``int16``
only where the target runs int16x8 (TFLite Micro: yes, checked by its interpreter as every
trial is; the Edge TPU: no). A target with no per-layer choice falls back to ``keep-float``
where it runs float ops. Each trial carries why it was chosen (``Candidate.why``).

A plan *meets the budget* as the goal check says (``Goals.check``: its state is ``met``); a
plan whose drop exceeds the budget is ``missed`` or, when the paired test against float32
cannot tell (``within_noise``), still not met: the next plan follows either way, and its why
names the last plan's verdict with its interval.
No TensorFlow here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.guide.precision import RANK, LayerPlan
from optimizer.guide.registry import TechniqueId
from optimizer.guide.targets import TARGETS
from optimizer.search.candidates import Batch, Candidate, Kind, repair_allowed, repair_batch
from optimizer.search.precision import Proposal, SensitivityPlanner
from optimizer.text import joined, msg

DEFAULT_STRATEGY = "sensitivity"
SENSITIVITY_GROUP = "sensitivity"
MIXED = TechniqueId.MIXED.value
#: Trial labels of each strategy's plans: ``mixed[plan-1]``, ``mixed[op-type-2]``.
LABELS = {"sensitivity": "plan", "op-type": "op-type", "hand": "hand"}


def plan_batch(strategy: str, number: int, plan: LayerPlan, why: str) -> Batch:
    """One mixed-precision trial: the ``mixed`` technique with ``plan`` as its setting."""
    trial = f"{MIXED}[{LABELS[strategy]}-{number}]"
    pair = f"mixed.plan={plan.text}"
    cand = Candidate(trial, MIXED, trial, Kind.PRECISION, (pair,), why=why)
    return Batch(trial, Kind.PRECISION, (cand,), knobs=(pair,))


def sensitivity_batch(why: str) -> Batch:
    """The sensitivity pass: a measuring job with no trial of its own."""
    return Batch(SENSITIVITY_GROUP, Kind.SENSITIVITY, (), why=why)


def accuracy_loss(goal, baseline, result) -> float | None:
    """The measured drop of ``result`` from the baseline in the metric's units (absolute)."""
    if result is None or not result.ok or result.accuracy is None or baseline.accuracy is None:
        return None
    drop = float(baseline.accuracy) - float(result.accuracy)
    return drop if goal.higher_is_better else -drop


def max_loss(goal, baseline_value: float) -> float:
    """The accuracy budget as an absolute loss (a relative budget scales the baseline)."""
    return goal.max_drop * abs(float(baseline_value)) if goal.relative else goal.max_drop


@dataclass
class OpTypePlanner:
    """The op-type-at-a-time plans (see the module docstring) over a model's layers
    (``[(name, op, weights)]``) and the precisions the target allows."""

    layers: list
    allowed: tuple
    io: str
    results: dict = field(default_factory=dict)      # (op, precision) -> measured loss
    done: set = field(default_factory=set)

    def __post_init__(self):
        weights: dict = {}
        for _, op, count in self.layers:
            weights[op] = weights.get(op, 0) + int(count)
        first = {op: i for i, (_, op, _) in reversed(list(enumerate(self.layers)))}
        self.types = sorted(weights, key=lambda op: (-weights[op], first[op]))
        self.higher = [p for p in sorted(self.allowed, key=RANK.get) if p != "int8"]
        self.single = [(op, p) for op in self.types for p in self.higher]
        self.order = []

    def plan_of(self, ops_at: dict) -> LayerPlan:
        return LayerPlan(tuple((n, ops_at[op]) for n, op, _ in self.layers if op in ops_at),
                         io=self.io)

    def record(self, key, loss: float | None) -> None:
        if key is not None and loss is not None and len(key) == 2 and key in self.single:
            self.results[key] = loss

    def next(self) -> tuple[Proposal, tuple | None] | None:
        """(the next proposal, its op-type key or None), or None when every plan was tried."""
        for op, p in self.single:
            plan = self.plan_of({op: p})
            if plan.text in self.done or not plan.layers:
                continue
            self.done.add(plan.text)
            rank = self.types.index(op) + 1
            return Proposal(plan, float("nan"), 0.0, msg(
                "op-type fallback: every {op} layer to {precision} (op type {rank} of {count} "
                "by share of the weights, like Neural Compressor's basic strategy)", op=op,
                precision=p, rank=rank, count=len(self.types))), (op, p)
        # accumulate: op types whose move helped most first, each at its best precision
        best = {}
        for (op, p), _ in sorted(self.results.items(), key=lambda kv: kv[1]):
            best.setdefault(op, p)
        ranked = sorted(best, key=lambda op: self.results[(op, best[op])])
        for k in range(2, len(ranked) + 1):
            plan = self.plan_of({op: best[op] for op in ranked[:k]})
            if plan.text not in self.done:
                self.done.add(plan.text)
                return Proposal(plan, float("nan"), 0.0, msg(
                    "op-type fallback, accumulated: {ops} at their best precision (the op "
                    "types that helped most first)", ops=", ".join(ranked[:k]))), None
        top = self.higher[-1] if self.higher else None
        plan = self.plan_of({op: top for op in self.types}) if top else LayerPlan(io=self.io)
        if top and plan.text not in self.done:
            self.done.add(plan.text)
            return Proposal(plan, float("nan"), 0.0, msg(
                "op-type fallback, last: every layer to {precision}", precision=top)), None
        return None


def model_layers(tflite_path) -> list:
    """``[(layer name, op, weight count)]`` of a float ``.tflite`` (the op-type planner's
    input): weights are the elements of each op's constant inputs."""
    from optimizer.measuring.precision import layer_ops
    from optimizer.measuring.readiness.graph import read_graph

    graph = {op.index: op for op in read_graph(tflite_path).ops}
    out = []
    for layer in layer_ops(tflite_path):
        op = graph.get(layer.index)
        count = sum(int(np.prod(t.shape)) for t in (op.inputs if op else ()) if t.constant)
        out.append((layer.name, layer.op, count))
    return out


class PrecisionPhase:
    """The precision strategy of one search (see the module docstring): what to queue when the
    target's int8 form misses the accuracy budget, and after each of its batches."""

    def __init__(self, request, model_blocker: str | None = None, max_trials: int = 8):
        self.request, self.model_blocker = request, model_blocker
        self.strategy = getattr(request, "precision_strategy", DEFAULT_STRATEGY)
        info = TARGETS[request.target]
        self.allowed, self.io = info.layer_precisions, info.plan_io
        self.latency_counts = info.measured_here
        self.int8_form = info.int8
        self.max_trials = int(getattr(request, "max_precision_trials", max_trials))
        self.started = False
        self.planner = None
        self.trials = 0
        self.pending: dict = {}       # trial id -> (proposal, op-type key)
        self.reports: list = []       # [{"trial", "folder", "mode"}] sensitivity reports
        self.finished = False

    def start(self, trials: dict, baseline, goals, notes: list) -> list[Batch]:
        """The batches to queue first once the int8 form (``missed``) missed the budget."""
        self.started = True
        strategy = self.strategy
        if strategy in ("sensitivity", "op-type") and len(self.allowed) < 2:
            blocked = repair_allowed(self.request.target) or self.model_blocker
            notes.append(msg("{target} takes no per-layer precision but int8; nothing else is "
                             "tried", target=self.request.target.value) if blocked else
                         msg("{target} takes no per-layer precision but int8; keeping its "
                             "worst layers in float is tried instead",
                             target=self.request.target.value))
            strategy = "none" if blocked else "keep-float"
        if strategy == "none":
            return []
        if strategy == "keep-float":
            blocked = repair_allowed(self.request.target) or self.model_blocker
            if blocked:
                notes.append(msg("selective quantization is not tried: {why}", why=blocked))
                return []
            return [repair_batch()]
        if strategy == "sensitivity":
            return [sensitivity_batch(msg(
                "int8 missed the accuracy budget: measure each layer at {precisions} (the "
                "precisions {target} runs besides int8)",
                precisions=", ".join(self.allowed[1:]), target=self.request.target.value))]
        self.planner = OpTypePlanner(model_layers(baseline.tflite_path), self.allowed, self.io)
        return self._next(notes)

    def after(self, batch: Batch, report, trials: dict, baseline, goals,
              notes: list) -> list[Batch]:
        """The next batch after one of this phase's batches (none once a plan met every goal,
        the trials are used up or no plan is left)."""
        if batch.kind == Kind.SENSITIVITY:
            return self._loaded(report, trials, baseline, goals, notes)
        if batch.kind != Kind.PRECISION or self.finished:
            return []
        cand = batch.candidates[0]
        result = trials.get(cand.id)
        proposal, key = self.pending.pop(cand.id, (None, None))
        loss = accuracy_loss(goals.accuracy, baseline, result) if goals.accuracy else None
        if isinstance(self.planner, SensitivityPlanner) and proposal is not None:
            self.planner.record(proposal, loss)
        elif isinstance(self.planner, OpTypePlanner):
            self.planner.record(key, loss)
        check = goals.check(baseline, result) if result is not None and result.ok else None
        if check is not None and check.met:
            self.finished = True
            notes.append(msg("{trial} met every goal after {count} precision trial(s)",
                             trial=cand.id, count=self.trials))
            return []
        # missed, or within noise of the budget (the paired test cannot tell): not met, so
        # the next plan follows, and says what the last one measured
        verdict = (msg("{trial} {summary}: {details}", trial=cand.id, summary=check.summary,
                       details=joined([i.detail for i in check.items if not i.met], "; "))
                   if check is not None else
                   msg("{trial} gave no measurement ({error})", trial=cand.id, error=result.error)
                   if result is not None and result.error else
                   msg("{trial} gave no measurement", trial=cand.id))
        notes.append(verdict)
        return self._next(notes, after=verdict)

    def _loaded(self, report, trials, baseline, goals, notes) -> list[Batch]:
        from optimizer.artifacts import store
        from optimizer.engine.sensitivity import SENSITIVITY_REPORT

        folder = (report.extra or {}).get("folder") if report is not None else None
        data = store.read_json(f"{folder}/{SENSITIVITY_REPORT}") if folder else None
        if not isinstance(data, dict) or goals.accuracy is None:
            notes.append(msg("the sensitivity pass gave no report: {why}", why=report.stopped)
                         if report is not None and report.stopped else
                         msg("the sensitivity pass gave no report"))
            return []
        self.reports.append({"trial": None, "folder": folder, "mode": "sensitivity"})
        budget = max_loss(goals.accuracy, data["float"]["value"])
        int8 = trials.get(self.int8_form) if self.int8_form else None
        self.planner = SensitivityPlanner(data, self.allowed, self.io, budget,
                                          self.latency_counts,
                                          int8_loss=accuracy_loss(goals.accuracy, baseline, int8))
        return self._next(notes)

    def _next(self, notes: list, after: str | None = None) -> list[Batch]:
        if self.planner is None or self.trials >= self.max_trials:
            if self.planner is not None:
                notes.append(msg("{strategy}: stopped after {count} precision trials "
                                 "(max_precision_trials)", strategy=self.strategy,
                                 count=self.trials))
            return []
        found = self.planner.next()
        if found is None:
            notes.append(msg("{strategy}: no further mixed-precision plan to try",
                             strategy=self.strategy))
            return []
        proposal, key = found if isinstance(found, tuple) else (found, None)
        self.trials += 1
        why = msg("{why} (after {after})", why=proposal.why, after=after) if after \
            else proposal.why
        batch = plan_batch(self.strategy, self.trials, proposal.plan, why)
        self.pending[batch.candidates[0].id] = (proposal, key)
        return [batch]
