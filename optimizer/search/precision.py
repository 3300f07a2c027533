"""The solver of the sensitivity-first precision search: from a sensitivity report to the
cheapest mixed-precision plan predicted to meet the accuracy budget.

The report (``engine.sensitivity``) holds, measured on the sensitivity samples, the all-int8
model's metric and, for each layer and each precision the target allows, the metric with only
that layer changed, its bytes and its latency. Here:

* a layer's **gain** at a precision is how much of the int8 loss that change alone removes
  (the int8 loss minus that variant's loss; the loss is the drop from the float model in the
  metric's direction);
* its **cost** is what it adds, relative to the int8 file: bytes, plus on the target the app
  measures on (the CPU) latency too, so int16's reference kernels count against it there;
* a plan's **predicted loss** is the int8 loss minus the gains of its changes (additive: the
  real run then verifies it);
* ``solve`` picks changes greedily, best gain per cost first (a change that costs nothing or
  saves is taken first), until the predicted loss meets the target, then drops every change
  the target can do without, costliest first: the cheapest plan predicted to meet it.

``SensitivityPlanner`` keeps the attempts, starting with the int8 trial that missed: the
target is tightened by how optimistic the predictions were (measured loss on the test split
minus the loss predicted on the sensitivity samples; int8's own gap counts from the start)
and plans already tried are skipped. When no plan is predicted to meet the tightened target
(the sensitivity samples cannot see a loss of a sample or two), the plans *escalate*: each adds
the next change by how much it lowers the outputs' error against the float model per cost
(measured in the same pass), until a plan meets every goal or nothing is left.
Pure Python; no TensorFlow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from optimizer import numbers
from optimizer.guide.goals import metric_word
from optimizer.guide.precision import RANK, LayerPlan
from optimizer.text import figure, joined, msg


@dataclass(frozen=True)
class Option:
    """One layer at one precision: its measured gain (loss removed), cost and numbers."""

    layer: str
    op: str
    precision: str
    gain: float
    cost: float
    size_delta: int
    latency_delta_ms: float | None
    error_gain: float = 0.0      # how much it lowers the outputs' RMSE against float


@dataclass(frozen=True)
class Proposal:
    """A plan to verify, with its predicted loss and cost, and why it was chosen."""

    plan: LayerPlan
    predicted_loss: float
    cost: float
    why: str


def loss_words(value: float, metric: str = "accuracy"):
    """A loss in the metric's units, as a message: "0.444 points" for accuracy, "0.0123" for an
    RMSE (its number a Figure, written in its reader's language)."""
    scaled = figure(float(value) * numbers.metric_scale(metric), "sig")
    return msg("{amount} points", amount=scaled) if numbers.is_percent(metric) else scaled


def plan_words(plan: LayerPlan):
    """``LayerPlan.describe`` as a message: "normalize int16; dense_3 float; others int8"."""
    parts = [f"{n} {p}" for n, p in plan.layers if p != plan.default]
    return joined(parts + [msg("others {precision}", precision=plan.default) if parts else
                           msg("every layer {precision}", precision=plan.default)], "; ")


def loss_of(report: dict, value: float) -> float:
    """The drop from the float model's value, in the metric's bad direction."""
    base = float(report["float"]["value"])
    return base - float(value) if report.get("higher_is_better", True) else float(value) - base


def options(report: dict, allowed, latency_counts: bool) -> list[Option]:
    """Every (layer, precision) the report measured that ``allowed`` permits and that the
    file really got (a precision the Quantizer could not give the op is left out)."""
    int8 = report["int8"]
    loss8 = loss_of(report, int8["value"])
    size8 = max(1, int(int8["size_bytes"]))
    lat8 = int8.get("latency_ms")
    out = []
    for entry in report.get("layers", []):
        for precision, choice in entry.get("choices", {}).items():
            if precision not in allowed or choice.get("precision_read") not in (None, precision):
                continue
            size_delta = int(choice["size_bytes"]) - int(int8["size_bytes"])
            lat = choice.get("latency_ms")
            lat_delta = None if lat is None or lat8 is None else float(lat) - float(lat8)
            cost = size_delta / size8
            if latency_counts and lat_delta is not None and lat8:
                cost += lat_delta / float(lat8)
            error_gain = (float(int8["error"]) - float(choice["error"])
                          if "error" in int8 and "error" in choice else 0.0)
            out.append(Option(entry["name"], entry.get("op", ""), precision,
                              loss8 - loss_of(report, choice["value"]), cost, size_delta,
                              lat_delta, error_gain))
    return out


def predicted_loss(report: dict, chosen: dict, by_key: dict) -> float:
    """The int8 loss minus the gains of ``chosen`` ({layer: precision})."""
    loss8 = loss_of(report, report["int8"]["value"])
    return loss8 - sum(by_key[(layer, p)].gain for layer, p in chosen.items())


def solve(report: dict, opts: list[Option], target: float, io: str,
          tried=frozenset()) -> Proposal | None:
    """The cheapest plan predicted to lose at most ``target`` that is not in ``tried`` (plan
    texts), or None when no plan of these options is predicted to (see the module doc)."""
    by_key = {(o.layer, o.precision): o for o in opts}
    chosen: dict = {}
    while True:
        if predicted_loss(report, chosen, by_key) <= target + 1e-12:
            # the pruned plan, or (tried already) the one with the last change kept
            for plan in (_pruned(report, chosen, by_key, target, io),
                         LayerPlan(tuple(chosen.items()), io=io)):
                if plan.text not in tried:
                    return _proposal(report, plan, by_key, target)
        step = _best_step(chosen, opts, by_key)
        if step is None:
            return None
        chosen[step.layer] = step.precision


def _best_step(chosen: dict, opts: list[Option], by_key: dict) -> Option | None:
    """The change with the most gain per cost over the current plan (free ones first)."""
    best, best_score = None, -math.inf
    for o in opts:
        current = chosen.get(o.layer)
        if current is not None and RANK[o.precision] <= RANK[current]:
            continue
        before = by_key[(o.layer, current)] if current is not None else None
        gain = o.gain - (before.gain if before else 0.0)
        cost = o.cost - (before.cost if before else 0.0)
        if gain <= 1e-12:
            continue
        score = math.inf if cost <= 0 else gain / cost
        if score > best_score or (score == best_score and best is not None and cost < 0):
            best, best_score = o, score
    return best


def _pruned(report: dict, chosen: dict, by_key: dict, target: float, io: str) -> LayerPlan:
    """``chosen`` without the changes the target does without, costliest first."""
    kept = dict(chosen)
    for layer in sorted(chosen, key=lambda n: by_key[(n, chosen[n])].cost, reverse=True):
        trial = {k: v for k, v in kept.items() if k != layer}
        if predicted_loss(report, trial, by_key) <= target + 1e-12:
            kept = trial
    return LayerPlan(tuple(kept.items()), io=io)


def _proposal(report: dict, plan: LayerPlan, by_key: dict, target: float) -> Proposal:
    chosen = dict(plan.layers)
    loss = predicted_loss(report, chosen, by_key)
    cost = sum(by_key[(n, p)].cost for n, p in chosen.items())
    return Proposal(plan, loss, cost, "")


@dataclass
class SensitivityPlanner:
    """The sensitivity-first plans for one report, target precisions and budget.

    ``max_loss`` is the accuracy budget in the metric's units; ``int8_loss`` the loss the
    target's int8 trial measured on the test split (its gap to the report's int8 loss is the
    first evidence of how far the samples' predictions are off); ``history`` the plans
    verified so far as ``(proposal, measured loss)``.
    """

    report: dict
    allowed: tuple
    io: str
    max_loss: float
    latency_counts: bool
    int8_loss: float | None = None
    history: list = field(default_factory=list)
    escalation: list = field(default_factory=list)
    gave_up: bool = False

    def __post_init__(self):
        self.opts = options(self.report, self.allowed, self.latency_counts)
        if self.int8_loss is not None:
            loss8 = loss_of(self.report, self.report["int8"]["value"])
            self.history.append((Proposal(LayerPlan(io=self.io), loss8, 0.0, "int8"),
                                 self.int8_loss))

    def record(self, proposal: Proposal, measured_loss: float | None) -> None:
        self.history.append((proposal, measured_loss))

    def next(self) -> Proposal | None:
        """The next plan to verify, or None when there is nothing left worth trying."""
        tried = frozenset([p.plan.text for p, _ in self.history]
                          + [p.plan.text for p in self.escalation])
        misses = [m - p.predicted_loss for p, m in self.history if m is not None]
        margin = max([0.0, *misses])
        target = self.max_loss - margin
        n = len([p for p, _ in self.history if p.why != "int8"]) + 1
        metric = self.report.get("metric", "accuracy")
        tightened = msg("; the target was tightened by {amount}, how much the measured loss "
                        "exceeded the predicted one so far", amount=loss_words(margin, metric)) \
            if margin else ""
        found = None if self.escalation else solve(self.report, self.opts, target, self.io,
                                                   tried)
        if found is not None and found.plan.layers:
            loss8 = loss_of(self.report, self.report["int8"]["value"])
            values = dict(n=n, plan=plan_words(found.plan), metric=metric_word(metric),
                          loss=loss_words(found.predicted_loss, metric),
                          int8=loss_words(loss8, metric), target=loss_words(target, metric),
                          tightened=tightened, cost=figure(found.cost, "signed"),
                          split=self.report.get("split"))
            why = msg("sensitivity-first plan {n}: {plan}. Predicted {metric} loss {loss} (int8 "
                      "alone: {int8}) within {target}{tightened}; the cheapest such plan (cost "
                      "{cost} of the int8 file's size and latency), from each layer's measured "
                      "sensitivity on {split}", **values) if self.latency_counts else \
                msg("sensitivity-first plan {n}: {plan}. Predicted {metric} loss {loss} (int8 "
                    "alone: {int8}) within {target}{tightened}; the cheapest such plan (cost "
                    "{cost} of the int8 file's size), from each layer's measured sensitivity "
                    "on {split}", **values)
            return Proposal(found.plan, found.predicted_loss, found.cost, why)
        return self._escalate(n, target, tried)

    def _escalate(self, n: int, target: float, tried) -> Proposal | None:
        """The last plan plus the next change by error reduction per cost (see the module
        docstring); None when no change is left."""
        by_key = {(o.layer, o.precision): o for o in self.opts}
        metric = self.report.get("metric", "accuracy")
        chosen = dict(self.escalation[-1].plan.layers) if self.escalation else {}
        ranked = sorted((o for o in self.opts if o.error_gain > 0 or o.gain > 0),
                        key=lambda o: (-(o.gain > 0), -_per_cost(o), o.layer))
        for o in ranked:
            current = chosen.get(o.layer)
            if current is not None and RANK[o.precision] <= RANK[current]:
                continue
            plan = LayerPlan(tuple({**chosen, o.layer: o.precision}.items()), io=self.io)
            if plan.text in tried:
                chosen[o.layer] = o.precision
                continue
            loss = predicted_loss(self.report, dict(plan.layers), by_key)
            cost = sum(by_key[k].cost for k in plan.layers)
            proposal = Proposal(plan, loss, cost, msg(
                "sensitivity-first plan {n}: no plan is predicted to lose at most {target} on "
                "{split}, so the plans escalate by how much each change lowers the outputs' "
                "error against the float model per cost: {plan} (this step: {layer} to "
                "{precision}, error {error})", n=n, target=loss_words(target, metric),
                split=self.report.get("split"), plan=plan_words(plan), layer=o.layer,
                precision=o.precision, error=figure(-o.error_gain, "signed")))
            self.escalation.append(proposal)
            return proposal
        return self._last_resort(n, tried, by_key)

    def _last_resort(self, n: int, tried, by_key: dict) -> Proposal | None:
        """Once, every measured layer at the target's highest integer precision (int16; float
        only where nothing else is allowed): what no per-layer measure singled out."""
        higher = [p for p in self.allowed if p != "int8"]
        top = next((p for p in ("int16", "float") if p in higher), None)
        layers = sorted({o.layer for o in self.opts if o.precision == top})
        plan = LayerPlan(tuple((name, top) for name in layers), io=self.io)
        if top is None or not layers or plan.text in tried or self.gave_up:
            return None
        self.gave_up = True
        keys = [(name, top) for name in layers]
        return Proposal(plan, predicted_loss(self.report, dict(keys), by_key),
                        sum(by_key[k].cost for k in keys), msg(
                            "sensitivity-first plan {n}: no single change is measured to help "
                            "any more; the last plan gives every layer {top}", n=n, top=top))


def _per_cost(o: Option) -> float:
    """Error reduction per cost (a change that costs nothing or saves ranks first)."""
    benefit = o.error_gain + max(o.gain, 0.0)
    return math.inf if o.cost <= 0 else benefit / o.cost
