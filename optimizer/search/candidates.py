"""The candidates a search may try for a target: every technique the target allows, with knobs.

Which techniques: the registry's hardware table and the tree's hardware rules decide
(``recommend_rules.runnable``: the produced file runs on the target and the user has the data
it needs); every technique left out gets its reason (``recommend_rules.hardware_reason`` /
``data_reason``). Knobs: pruning sparsity levels and cluster counts, each level a separate
fine-tune; the collaborative techniques run at the first level of each.

Candidates come in *batches*, one per job the engine runs: all post-training variants in one
batch (they share one frozen graph, in the baseline job), then one batch per fine-tune (its
``+ptq`` conversions share it), ordered cheap to expensive by fine-tuning epochs. A trial is
named by its *trial id*: the technique spec, plus the knobs in brackets when the technique has
them (``pruning+integer[sparsity=0.75]``), or ``integer[keep-float]`` for selective
quantization (the worst layers kept in float). Pure Python; no TensorFlow.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from optimizer.guide.registry import (
    POST_TRAINING,
    TARGETS,
    TECHNIQUES,
    DataNeed,
    TechniqueId,
    conversions_after,
    int8_conversion,
    parse_spec,
    retraining_bases,
)
from optimizer.guide.stage import StageKind
from optimizer.guide.stage_handlers import STAGES, default_knob_levels, knob
from optimizer.guide.targets import Target
from optimizer.recommendation.decide import Answers
from optimizer.recommendation.rules import (
    data_reason,
    hardware_reason,
    runnable,
)
from optimizer.text import msg

T = TechniqueId
#: The selective-quantization repair: post-training integer with its worst layers in float
#: (the QuantizationDebugger re-quantizes exactly that conversion).
REPAIR_BASE = T.INTEGER.value
REPAIR_ID = f"{REPAIR_BASE}[keep-float]"
REPAIR_GROUP = "keep-float"


class Kind(str, Enum):
    """What a batch runs: post-training conversions, one fine-tune, the int8 repair (worst
    layers in float), the precision search's sensitivity pass (no trial of its own) or one of
    its mixed-precision plans (``search.strategies``)."""

    POST_TRAINING = "post-training"
    RETRAINING = "retraining"
    REPAIR = "repair"
    SENSITIVITY = "sensitivity"
    PRECISION = "precision"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Candidate:
    """One trial the search may run: its id, technique spec, the settings pairs it needs and
    why the search chose it (shown per trial in the search's JSON)."""

    id: str
    spec: str
    group: str
    kind: Kind
    knobs: tuple = ()        # settings pairs, e.g. ("pruning.sparsity=0.75",)
    why: str = ""

    def to_dict(self) -> dict:
        return {"id": self.id, "spec": self.spec, "group": self.group, "kind": self.kind.value,
                "knobs": list(self.knobs), "why": self.why}


@dataclass(frozen=True)
class Batch:
    """Candidates that share one job: the post-training conversions, one fine-tune, or the repair.

    ``epochs`` is the total fine-tuning epochs of the job (0 without fine-tuning); ``stages``
    the fine-tuning step kinds in order ("pruning", "clustering", "qat").
    """

    group: str
    kind: Kind
    candidates: tuple
    knobs: tuple = ()
    epochs: int = 0
    stages: tuple = ()
    why: str = ""            # a batch without trials (the sensitivity pass): why it runs

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.candidates]

    def without(self, ids) -> "Batch":
        """The same batch minus the candidates in ``ids``."""
        keep = tuple(c for c in self.candidates if c.id not in set(ids))
        return Batch(self.group, self.kind, keep, self.knobs, self.epochs, self.stages,
                     self.why)


@dataclass(frozen=True)
class CandidatePlan:
    """The ordered batches for a target, and every technique left out with its reason."""

    batches: tuple
    excluded: tuple = field(default_factory=tuple)   # ((technique id, reason), ...)

    @property
    def candidates(self) -> list[Candidate]:
        return [c for b in self.batches for c in b.candidates]


# -- trial ids ---------------------------------------------------------------------------------

_ID = re.compile(r"^(?P<spec>[^\[\]]+)(\[(?P<knobs>[^\[\]]*)\])?$")


def trial_id(spec: str, knobs=()) -> str:
    """``spec`` plus its knobs in brackets: ``pruning+integer[sparsity=0.75]`` (each knob by
    its short name; ``ValueError`` for a pair that is no knob)."""
    shown = []
    for pair in knobs:
        key, value = str(pair).split("=", 1)
        shown.append(f"{knob(key).short}={value}")
    return f"{spec}[{','.join(shown)}]" if shown else spec


def split_trial(trial: str) -> tuple[str, str]:
    """(technique spec, knob text) of a trial id; the knob text is "" when there is none."""
    match = _ID.match(str(trial).strip())
    if not match:
        return str(trial), ""
    return match.group("spec"), match.group("knobs") or ""


def trial_spec(trial: str) -> str:
    """The technique spec of a trial id (``integer[keep-float]`` -> ``integer``)."""
    return split_trial(trial)[0]


# -- the plan ----------------------------------------------------------------------------------

def _answers(target: Target, data: DataNeed, can_retrain: bool) -> Answers:
    return Answers(target=target, data=data, can_retrain=can_retrain)


#: The formats of the targets' int8 forms (int8 with float I/O, integer-only int8).
_INT8_FORMATS = frozenset(TECHNIQUES[int8_conversion(t)].format for t in TARGETS
                          if int8_conversion(t) is not None)


def _after_training(target: Target) -> list[str]:
    """Conversions worth trying after a retraining technique, from the rows: those marked
    ``search_after_training`` (int16x8 is not: reference kernels, no size benefit), with the
    int8 forms narrowed to the one the target needs (``TargetInfo.int8``)."""
    int8 = int8_conversion(target)
    return [t.value for t, row in TECHNIQUES.items()
            if row.is_conversion and row.search_after_training
            and (row.format not in _INT8_FORMATS or t == int8)]


def _knobs_and_conversions(base: str, levels: dict, target: Target):
    """(stage kinds, knob sets, conversions) of one retraining base for the search.

    A single-stage technique is tried at every level of its stage's knob; a multi-stage one at
    the first level of each (one fine-tune per knob set). ``levels`` maps a knob's key to its
    ``--set`` pairs. Conversions: those of ``_after_training`` that the technique allows.
    """
    spec = parse_spec(base)
    kinds = tuple(stage.kind for stage in spec.stages)
    knobbed = [STAGES[kind].knob.key for kind in kinds if STAGES[kind].knob is not None]
    if len(kinds) == 1:
        knob_sets = [(pair,) for pair in levels[knobbed[0]]] if knobbed else [()]
    else:
        knob_sets = [tuple(levels[key][0] for key in dict.fromkeys(knobbed))]
    allowed = {t.value for t in conversions_after(spec.base)}
    return kinds, knob_sets, [c for c in _after_training(target) if c in allowed]


def knob_pairs(knob_levels: dict | None = None) -> dict:
    """``{knob key: [--set pair per level]}`` for every knob: the given levels (validated by
    each knob; ``ValueError`` naming the range or an unknown knob), else its defaults."""
    given = dict(knob_levels or {})
    for key in given:
        knob(key)
    merged = {**default_knob_levels(), **given}
    return {key: [knob(key).pair(v) for v in knob(key).parse_levels(values)]
            for key, values in merged.items()}


def plan_candidates(target: Target | str, data: DataNeed | str = DataNeed.LABELLED,
                    epochs: dict | None = None, knob_levels: dict | None = None,
                    can_retrain: bool = True,
                    retrain_blocker: str | None = None) -> CandidatePlan:
    """The search's batches for ``target``, cheap to expensive, and what was left out.

    ``data`` is what the user has (labelled / unlabelled / none); ``epochs`` maps a fine-tuning
    step kind ("pruning", "clustering", "qat") to its epochs (the model's defaults), used to
    order the retraining batches; ``knob_levels`` maps a knob's key (``pruning.sparsity``,
    ``clustering.clusters``) to its levels, the defaults for the knobs it leaves out (the
    first level is used by the collaborative techniques); ``retrain_blocker`` is why the model
    cannot be fine-tuned at all (e.g. an uploaded .tflite has no Keras model), the reason given
    for every retraining technique. Raises ``ValueError`` for bad levels.
    """
    target, data = Target(target), DataNeed(data)
    epochs = {**{kind.value: 2 for kind in StageKind}, **(epochs or {})}
    levels = knob_pairs(knob_levels)
    answers = _answers(target, data, can_retrain and retrain_blocker is None)
    reasons: dict[str, str] = {}     # spec -> why it cannot run here

    def allowed(spec: str) -> bool:
        if runnable(spec, answers):
            return True
        parsed = parse_spec(spec)
        if retrain_blocker and parsed.retrains and target in parsed.targets:
            reasons.setdefault(spec, retrain_blocker)
            return False
        for tid in (parsed.conversion, parsed.base):
            reason = hardware_reason(tid, target) or data_reason(tid, answers)
            if reason:
                reasons.setdefault(spec, reason)
                return False
        reasons.setdefault(spec, msg("its file does not run on this target with this data"))
        return False

    # a per-layer technique (mixed) is planned by the precision search, not tried plain
    post = [Candidate(t.value, t.value, Kind.POST_TRAINING.value, Kind.POST_TRAINING,
                      why=msg("post-training conversion {target} runs: no fine-tuning, "
                              "seconds, all in one job from one frozen graph",
                              target=target.value))
            for t in POST_TRAINING if not TECHNIQUES[t].per_layer and allowed(t.value)]
    batches = [Batch(Kind.POST_TRAINING.value, Kind.POST_TRAINING, tuple(post))]
    retraining = []
    groups = [(base, *_knobs_and_conversions(base, levels, target)) for base in retraining_bases()]
    order = 0
    for base, stages, knob_sets, conversions in groups:
        stages = tuple(str(kind) for kind in stages)
        for knobs in knob_sets:
            # no conversion worth trying here: the default one's reason says why
            specs = [parse_spec(f"{base}+{conv}").text for conv in conversions] or [base]
            specs = [s for s in dict.fromkeys(specs) if allowed(s)]
            if not specs:
                continue
            group = trial_id(base, knobs)
            why = msg("retraining after the post-training batch, cheap to expensive by "
                      "fine-tuning epochs ({epochs}){at}",
                      epochs=sum(int(epochs[k]) for k in stages),
                      at=msg(", at {knobs}", knobs=", ".join(knobs)) if knobs else "")
            cands = tuple(Candidate(trial_id(s, knobs), s, group, Kind.RETRAINING, knobs, why)
                          for s in specs)
            total = sum(int(epochs[k]) for k in stages)
            retraining.append((total, len(stages), order,
                               Batch(group, Kind.RETRAINING, cands, knobs, total, stages)))
            order += 1
    retraining.sort(key=lambda item: item[:3])
    batches = [b for b in batches + [item[3] for item in retraining] if b.candidates]
    planned = {parse_spec(c.spec).base.value for b in batches for c in b.candidates}
    excluded = {}
    for spec, reason in reasons.items():
        base = parse_spec(spec).base.value
        if base not in planned:       # a technique with no runnable form at all
            excluded.setdefault(base, reason)
    return CandidatePlan(tuple(batches), tuple(excluded.items()))


def repair_batch(conversion: str = REPAIR_BASE) -> Batch:
    """The selective-quantization batch: post-training int8 with its worst layers in float."""
    candidate = Candidate(REPAIR_ID, conversion, REPAIR_GROUP, Kind.REPAIR,
                          why=msg("int8 missed the accuracy budget: keep its worst layers "
                                  "(by per-layer int8 error) in float, one more at a time"))
    return Batch(REPAIR_GROUP, Kind.REPAIR, (candidate,))


def repair_allowed(target: Target | str) -> str | None:
    """None when keeping layers in float can run on ``target``; else the reason it cannot."""
    target = Target(target)
    if target in parse_spec(T.INTEGER.value).targets:
        return None
    reason = hardware_reason(T.INTEGER, target)
    return msg("keeping layers in float leaves float ops in the file: {why}", why=reason) \
        if reason else msg("keeping layers in float leaves float ops in the file")


def post_training_specs(target: Target | str) -> tuple:
    """The post-training conversions a search tries on ``target`` (no fine-tuning): a
    search restricted to them (``SearchRequest.techniques``) runs one conversion job, then
    the precision search when int8 misses the budget, and nothing longer."""
    plan = plan_candidates(target)
    return tuple(c.spec for b in plan.batches if b.kind == Kind.POST_TRAINING
                 for c in b.candidates)


def restricted(plan: CandidatePlan, techniques) -> CandidatePlan:
    """``plan`` with only the candidates whose spec is in ``techniques`` (every knob level of
    them); the whole plan when ``techniques`` is empty."""
    if not techniques:
        return plan
    wanted = set(techniques)
    batches = (b.without([c.id for c in b.candidates if c.spec not in wanted])
               for b in plan.batches)
    return CandidatePlan(tuple(b for b in batches if b.candidates), plan.excluded)
