"""``recommend(answers) -> Recommendation``: the guide's quantization decision tree, pure.

The user's answers walk ``QUANT_TREE`` (Q1 "Optimize model?" .. Q6 "Want higher accuracy?")
to a leaf; the tree's footnote about accelerators (``recommend_rules.apply_hardware``) then keeps
or substitutes that leaf for the target hardware. The result says which technique and spec to
run, every question asked with the answer given, technique specs worth running for comparison,
and why every other technique in the registry was not chosen, citing the guide.

Light on purpose: no numpy, pandas or TensorFlow, so the Streamlit page can call it on every
rerun.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum

from optimizer.guide.registry import (
    DATA_LABELS,
    GUIDE,
    GUIDE_PTQ,
    POST_TRAINING,
    TECHNIQUES,
    DataNeed,
    TechniqueId,
    int8_conversion,
    parse_spec,
)
from optimizer.guide.targets import TARGET_LABELS, TARGETS, Target
from optimizer.recommendation.rules import (
    INTEGER_ONLY_TARGETS,
    Choice,
    UnlockOption,
    apply_hardware,
    hardware_notes,
    on_target,
    runnable,
    unlock_options,
    why_not,
)
from optimizer.recommendation.tree import NO, PTQ_TREE, QUANT_TREE, YES, answer_label
from optimizer.text import N_, tr

__all__ = ["QUANT_TREE", "PTQ_TREE", "SizeReduction", "Effort", "AccuracyPriority", "Answers",
           "PathStep", "Exclusion", "UnlockOption", "Recommendation", "recommend"]


class SizeReduction(str, Enum):
    """How much smaller the model should get: Q2 "Want bigger model size reduction?"."""

    ABOUT_2X = "2x"
    ABOUT_4X = "4x"

    def __str__(self) -> str:
        return self.value


class Effort(str, Enum):
    """Quickest path or best result: Q3 "More efforts required?"."""

    QUICK = "quick"
    THOROUGH = "thorough"

    def __str__(self) -> str:
        return self.value


class AccuracyPriority(str, Enum):
    """Standard or highest accuracy: Q6 "Want higher accuracy?"."""

    STANDARD = "standard"
    HIGH = "high"

    def __str__(self) -> str:
        return self.value


def _coerce(enum_cls, value, name: str):
    if isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(value)
    except ValueError:
        choices = ", ".join(e.value for e in enum_cls)
        raise ValueError(f"{name} '{value}' is not valid; use one of: {choices}") from None


@dataclass(frozen=True)
class Answers:
    """The user's situation, in the tree's terms. Strings are accepted for the enum fields.

    ``data``: what the user has (none / unlabelled representative samples / labelled training
    data); ``can_retrain`` counts only with labelled data (retraining needs labels).
    Defaults (also the CLI's): optimize, no data, retraining allowed, CPU, about 4x smaller,
    quickest path, standard accuracy -- the guide's "start with post-training quantization".
    """

    optimize: bool = True
    data: DataNeed = DataNeed.NONE
    can_retrain: bool = True
    target: Target = Target.CPU
    size_goal: SizeReduction = SizeReduction.ABOUT_4X
    effort: Effort = Effort.QUICK
    accuracy: AccuracyPriority = AccuracyPriority.STANDARD

    def __post_init__(self) -> None:
        for name in ("optimize", "can_retrain"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, not {getattr(self, name)!r}")
        for name, enum_cls in (("data", DataNeed), ("target", Target),
                               ("size_goal", SizeReduction), ("effort", Effort),
                               ("accuracy", AccuracyPriority)):
            object.__setattr__(self, name, _coerce(enum_cls, getattr(self, name), name))

    @property
    def retrain(self) -> bool:
        """Q4 "Able to re-train the model?": labelled data and the user can afford it."""
        return self.data == DataNeed.LABELLED and self.can_retrain

    def to_dict(self) -> dict:
        """JSON-ready form (enum values as strings)."""
        return {f.name: (v.value if isinstance(v := getattr(self, f.name), Enum) else v)
                for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "Answers":
        """Build from ``to_dict`` output; unknown keys raise ``ValueError`` naming valid ones."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown answer keys {unknown}; use: {', '.join(sorted(names))}")
        return cls(**data)


@dataclass(frozen=True)
class PathStep:
    """One question asked on the way to the leaf, the answer ("Y"/"N") and why, in words."""

    node: str
    question: str
    answer: str
    because: str = ""

    def to_dict(self) -> dict:
        return {"question": self.question, "answer": self.answer}


@dataclass(frozen=True)
class Exclusion:
    """A technique that was not recommended, and the human reason."""

    technique: TechniqueId
    reason: str

    def to_dict(self) -> dict:
        return {"technique": self.technique.value, "reason": self.reason}


@dataclass(frozen=True)
class Recommendation:
    """What to run and why.

    ``technique`` is None when nothing runnable fits (then ``unlock`` says what data would
    unlock it). ``run_spec`` is the technique spec to run (e.g. "qat+integer_only").
    ``path`` holds every question of ``QUANT_TREE`` asked, in order; ``leaf`` is the leaf node
    reached and ``tree_technique`` its technique, which ``override`` explains when the hardware
    changed it. ``excluded`` has every other registry technique exactly once.
    ``companion_path`` is the walk through ``PTQ_TREE`` when it leads to the same technique.
    ``reason_kinds`` names what each of ``reasons`` is about ("tree", "override", "run_as",
    "table", "companion", "baseline"), so a page can leave out what it draws otherwise. Every
    sentence is written in the language in use when ``recommend`` ran (``optimizer.text``).
    """

    answers: Answers
    technique: TechniqueId | None
    run_spec: str | None
    path: tuple[PathStep, ...]
    leaf: str
    tree_technique: TechniqueId
    alternatives: tuple[str, ...]
    excluded: tuple[Exclusion, ...]
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()
    unlock: tuple[UnlockOption, ...] = ()
    override: str | None = None
    companion_path: tuple[PathStep, ...] = ()
    reason_kinds: tuple[str, ...] = ()

    @property
    def runnable(self) -> bool:
        """True when there is something to run."""
        return self.run_spec is not None

    @property
    def specs_to_run(self) -> tuple[str, ...]:
        """The recommended spec followed by the alternatives (the baseline runs anyway)."""
        return ((self.run_spec,) if self.run_spec else ()) + self.alternatives

    def exclusion(self, technique: TechniqueId | str) -> Exclusion | None:
        """The exclusion entry of one technique, or None if it is the recommendation."""
        tid = TechniqueId(technique)
        return next((e for e in self.excluded if e.technique == tid), None)

    def to_dict(self) -> dict:
        """The CLI's JSON: technique, path, alternatives, excluded, plus explanatory keys."""
        return {
            "technique": self.technique.value if self.technique else None,
            "path": [step.to_dict() for step in self.path],
            "alternatives": list(self.alternatives),
            "excluded": [e.to_dict() for e in self.excluded],
            "run_spec": self.run_spec,
            "leaf": self.leaf,
            "leaf_text": QUANT_TREE.node(self.leaf).text,
            "tree_technique": self.tree_technique.value,
            "path_nodes": [step.node for step in self.path],
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "override": self.override,
            "unlock": [u.to_dict() for u in self.unlock],
            "companion_path": [{"node": s.node, **s.to_dict()} for s in self.companion_path],
            "answers": self.answers.to_dict(),
        }


def _decide(node_id: str, a: Answers) -> bool:
    """The tree's questions answered from the user's situation."""
    return {
        "Q1": a.optimize,
        "Q2": a.size_goal == SizeReduction.ABOUT_4X,
        "Q3": a.effort == Effort.THOROUGH,
        "Q4": a.retrain,
        "Q5": a.data in (DataNeed.REPRESENTATIVE, DataNeed.LABELLED),
        "Q6": a.accuracy == AccuracyPriority.HIGH,
        # the companion post-training tree
        "P1": a.optimize,
        "P2": TARGETS[a.target].float_only,
        "P3": a.data in (DataNeed.REPRESENTATIVE, DataNeed.LABELLED),
        "P4": a.target in INTEGER_ONLY_TARGETS,
    }[node_id]


_DATA_WORDS = {DataNeed.NONE: N_("you have no data"),
               DataNeed.REPRESENTATIVE: N_("you have unlabelled representative samples"),
               DataNeed.LABELLED: N_("your labelled training data also serves as "
                                     "representative samples")}
#: The answer to each question in the user's words: (question, Y) and (question, N).
_BECAUSE = {
    ("Q1", True): N_("you want to optimize the model"),
    ("Q1", False): N_("you chose to just convert it"),
    ("Q2", True): N_("you want it as small as possible (about 4x)"),
    ("Q2", False): N_("about 2x smaller is enough"),
    ("Q3", True): N_("you want the best result and accept more effort"),
    ("Q3", False): N_("you want the quickest path"),
    ("Q6", True): N_("you asked for the highest accuracy"),
    ("Q6", False): N_("standard accuracy is enough"),
}


def _because(node_id: str, answer: str, a: Answers) -> str:
    """The answer in the user's words."""
    yes = answer == YES
    label = tr(TARGET_LABELS[a.target])
    if (node_id.replace("P1", "Q1"), yes) in _BECAUSE:
        return tr(_BECAUSE[(node_id.replace("P1", "Q1"), yes)])
    if node_id == "Q4":
        if yes:
            return tr("you have labelled training data and can retrain")
        if a.data == DataNeed.LABELLED:
            return tr("you said you cannot retrain")
        return tr("retraining needs labelled training data; you have none") \
            if a.data == DataNeed.NONE else \
            tr("retraining needs labelled training data; you have only unlabelled samples")
    if node_id in ("Q5", "P3"):
        return tr(_DATA_WORDS[a.data])
    if node_id == "P2":
        return tr("a desktop GPU delegate runs float16") if yes else \
            tr("{target} is not limited to float16 types", target=label)
    if node_id == "P4":
        return tr("{target} runs only int8 ops", target=label) if yes else \
            tr("{target} also runs float ops, so float fallback is fine", target=label)
    return ""


def _walk(tree, a: Answers) -> tuple[tuple[PathStep, ...], str]:
    steps, leaf = tree.walk(lambda node: _decide(node.id, a))
    return tuple(PathStep(q, tr(tree.node(q).text), ans, _because(q, ans, a))
                 for q, ans in steps), leaf


def _alternatives(a: Answers, choice: Choice) -> tuple[str, ...]:
    """Specs worth running next to the recommendation, runnable with the user's data/target:
    the other post-training variants (seconds each), then, when retraining is possible, QAT
    and pruning / clustering followed by the target's quantization."""
    if not a.optimize or choice.run_spec is None:
        return ()
    int8 = int8_conversion(a.target)  # the target's int8 form (None: it runs no int8 file)
    after = "float16" if TARGETS[a.target].float_only else (int8.value if int8 else None)
    # a per-layer technique (mixed) needs a plan: the search makes it, not the tree
    candidates = [t.value for t in POST_TRAINING if not TECHNIQUES[t].per_layer]
    if a.retrain:
        candidates += [f"qat+{int8.value}"] if int8 else []
        candidates += [f"pruning+{after}", f"clustering+{after}"] if after else []
    chosen, seen = parse_spec(choice.run_spec).text, set()
    alternatives = []
    for text in candidates:
        spec = parse_spec(text).text
        if spec != chosen and spec not in seen and runnable(spec, a):
            seen.add(spec)
            alternatives.append(spec)
    return tuple(alternatives)


def _excluded(a: Answers, steps, choice: Choice, alternatives) -> tuple[Exclusion, ...]:
    out = []
    for tid in TechniqueId:
        if tid == choice.technique:
            continue
        reason = why_not(tid, a, steps, choice)
        offered = [s for s in alternatives if parse_spec(s).base == tid]
        if offered:
            reason += tr("; {specs} is offered as an alternative to compare",
                         specs=tr(" and ").join(offered))
        out.append(Exclusion(tid, reason))
    return tuple(out)


def _reasons(a: Answers, path, leaf: str, choice: Choice,
             companion) -> tuple[tuple[str, str], ...]:
    """(kind, sentence) for every reason behind the choice, in the language in use."""
    walked = "; ".join(f"{s.question} {answer_label(s.answer)} ({s.because})" for s in path)
    reasons = [("tree", tr("The guide's quantization decision tree: {walked} -> '{leaf}' "
                           "[{source}].", walked=walked, leaf=tr(QUANT_TREE.node(leaf).text),
                           source=tr(GUIDE)))]
    if choice.override:
        reasons.append(("override", choice.override))
    if choice.technique is None:
        return tuple(reasons)
    info = TECHNIQUES[choice.technique]
    if choice.run_spec and choice.run_spec != choice.technique.value:
        reasons.append(("run_as", tr("{on} it runs as {spec}: converted integer-only, with int8 "
                                     "input and output and int8 ops only.",
                                     on=on_target(a.target, capital=True),
                                     spec=choice.run_spec)))
    reasons.append(("table", tr(
        "The guide's table for {title}: data: {data}; size reduction: {size}; accuracy: "
        "{accuracy}; hardware: {hardware} [{source}].", title=tr(info.title),
        data=tr(DATA_LABELS[info.data]), size=tr(info.guide_size),
        accuracy=tr(info.guide_accuracy), hardware=tr(info.guide_hardware),
        source=tr(info.source))))
    if companion:
        walked = "; ".join(f"{s.question} {answer_label(s.answer)}" for s in companion)
        reasons.append(("companion", tr(
            "The companion post-training tree agrees: {walked} -> '{leaf}' [{source}].",
            walked=walked, leaf=tr(PTQ_TREE.node(_companion_leaf(a)).text),
            source=tr(GUIDE_PTQ))))
    if choice.technique == TechniqueId.FLOAT32:
        reasons.append(("baseline", tr("Converting to float first checks that every op is "
                                       "supported and is the baseline for every comparison "
                                       "[{source}].", source=tr(GUIDE_PTQ))))
    return tuple(reasons)


def _companion_leaf(a: Answers) -> str:
    return PTQ_TREE.walk(lambda node: _decide(node.id, a))[1]


#: Companion-tree questions that repeat one of the main tree's (same answer, same words).
_REPEATED = ("P1", "P3")


def answered_questions(a: Answers) -> tuple[PathStep, ...]:
    """Every question of the guide's two trees answered from ``a`` -- also those the walk did
    not reach -- in the trees' order, each with its answer ("Y"/"N") and why in the user's
    words: the situation as the guide asks about it (the report's "your answers")."""
    steps = []
    for tree in (QUANT_TREE, PTQ_TREE):
        for node in tree.questions:
            if node.id in _REPEATED:
                continue
            answer = YES if _decide(node.id, a) else NO
            steps.append(PathStep(node.id, tr(node.text), answer, _because(node.id, answer, a)))
    return tuple(steps)


def recommend(answers: Answers) -> Recommendation:
    """Walk the guide's quantization tree with ``answers``, apply the hardware footnote, and
    explain the choice and every exclusion. Pure: same answers, same recommendation."""
    if not isinstance(answers, Answers):
        raise ValueError("recommend() needs an Answers object, e.g. "
                         "Answers(data='labelled', target='cpu')")
    path, leaf = _walk(QUANT_TREE, answers)
    choice = apply_hardware(answers, QUANT_TREE.node(leaf))
    companion, companion_leaf = _walk(PTQ_TREE, answers)
    if (choice.technique is None or choice.technique not in POST_TRAINING
            or PTQ_TREE.node(companion_leaf).technique != choice.technique):
        companion = ()
    steps = tuple((s.node, s.answer) for s in path)
    alternatives = _alternatives(answers, choice)
    reasons = _reasons(answers, path, leaf, choice, companion)
    return Recommendation(
        answers=answers,
        technique=choice.technique,
        run_spec=choice.run_spec,
        path=path,
        leaf=leaf,
        tree_technique=QUANT_TREE.node(leaf).technique,
        alternatives=alternatives,
        excluded=_excluded(answers, steps, choice, alternatives),
        reasons=tuple(text for _, text in reasons),
        reason_kinds=tuple(kind for kind, _ in reasons),
        notes=hardware_notes(answers, choice),
        unlock=unlock_options(answers, choice),
        override=choice.override,
        companion_path=companion,
    )
