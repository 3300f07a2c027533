"""The hardware rules behind the tree's footnote, and why each technique was not chosen.

The guide's image ends with a footnote: accelerators "only support a subset of our
quantization schemes". These functions turn that footnote, the guide's hardware table (kept in
``registry.TECHNIQUES``) and the Edge TPU requirements into sentences: how the target changes the
tree's leaf (``apply_hardware``), why a technique cannot run or was not chosen (``why_not``),
what data would unlock an integer-only target (``unlock_options``) and hardware caveats
(``hardware_notes``). Pure functions over the registry and ``QUANT_TREE``; no TensorFlow.
"""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.guide.registry import (
    DATA_ORDER,
    GUIDE,
    GUIDE_PTQ,
    QAT_FAMILY,
    TECHNIQUES,
    DataNeed,
    TechniqueId,
    int8_conversion,
    parse_spec,
)
from optimizer.guide.targets import TARGETS, Format, Target, integer_only_targets
from optimizer.recommendation.tree import (
    NO,
    PTQ_TREE,
    QUANT_TREE,
    QUANT_TREE_FOOTNOTE,
    YES,
    TreeNode,
    answer_label,
)
from optimizer.text import N_, Message, msg, tr

T = TechniqueId
#: Targets that run only full-integer (int8 ops, int8 input/output) models (from the table).
INTEGER_ONLY_TARGETS = integer_only_targets()
_INTEGER_ONLY_NOT_NEEDED = N_(
    "integer only (int8 input and output, conversion fails on any op without an int8 kernel) is "
    "what integer-only accelerators need; {on}, integer quantization with float fallback is the "
    "same size and keeps float input/output (the companion tree: '{p4}' = N)")


def on_target(target: Target, capital: bool = False) -> str:
    """'on the Edge TPU', 'on a desktop GPU delegate', ... for sentences (in the language in
    use, like every sentence here: ``optimizer.text``)."""
    phrase = tr(TARGETS[target].phrase)
    return tr("On {phrase}", phrase=phrase) if capital else tr("on {phrase}", phrase=phrase)


def _phrase(target: Target) -> str:
    return tr(TARGETS[target].phrase)


@dataclass(frozen=True)
class Choice:
    """What the hardware rules make of the tree's leaf: the technique (or None), the spec to
    run, and, when the leaf changed, a sentence saying what changed and why."""

    technique: TechniqueId | None
    run_spec: str | None
    override: str | None = None


def runnable(spec_text: str, answers) -> bool:
    """True if the spec's file runs on the target and the user has the data it needs
    (retraining needs labelled data and the user's consent)."""
    spec = parse_spec(spec_text)
    if spec.retrains and not answers.retrain:
        return False
    return answers.target in spec.targets and DATA_ORDER[spec.data] <= DATA_ORDER[answers.data]


def apply_hardware(answers, leaf: TreeNode) -> Choice:
    """Apply the footnote: keep the tree's leaf where the target runs it, else substitute."""
    tid, target = leaf.technique, answers.target
    said = tr("The tree's leaf is '{leaf}'", leaf=tr(leaf.text))
    if tid == T.FLOAT32:
        return Choice(T.FLOAT32, T.FLOAT32.value)
    if target in INTEGER_ONLY_TARGETS:
        return _integer_only_choice(answers, leaf)
    if TARGETS[target].float_only and tid != T.FLOAT16:
        why = (tr("int16x8 runs only on CPU reference kernels and GPU delegates don't support it")
               if tid == T.INT16X8 else
               tr("the guide lists it for {hardware} only, not for a desktop GPU delegate",
                  hardware=tr(TECHNIQUES[tid].guide_hardware)))
        return Choice(T.FLOAT16, T.FLOAT16.value, tr(
            "{said}, but {why}. For a GPU the companion post-training tree answers "
            "'{question}' with Y, which leads to float16, so the recommendation is "
            "post-training float16 quantization [{source}]. A bigger size reduction than about "
            "2x is not offered for a desktop GPU: every 4x technique (dynamic range, integer, "
            "QAT) stores int8 weights that the guide lists only for CPU, GPU (Android) and "
            "EdgeTPU; choose 'GPU on Android' or 'CPU' to get one.",
            said=said, why=why, question=tr(PTQ_TREE.node("P2").text), source=tr(GUIDE_PTQ)))
    if tid == T.INT16X8 and not TARGETS[target].runs(Format.INT16X8):
        return Choice(T.INTEGER, T.INTEGER.value, tr(
            "{said}, but int16x8 runs only on CPU reference kernels; {reason}. The closest "
            "technique that runs {on} is the same tree branch with int8 activations, "
            "'Post-training integer quantization', so that is the recommendation (it may lose "
            "a little more accuracy than int16 activations would).",
            said=said, reason=tr(TARGETS[target].int16x8_reason), on=on_target(target)))
    return Choice(tid, parse_spec(tid.value).text)


def _integer_only_choice(answers, leaf: TreeNode) -> Choice:
    target, tid = answers.target, leaf.technique
    if tid == T.INT16X8 and target in TECHNIQUES[tid].targets:
        return Choice(tid, tid.value)   # an integer-only target that runs int16x8 (TFLite Micro)
    said = tr("The tree's leaf is '{leaf}', but {reason}", leaf=tr(leaf.text),
              reason=tr(TARGETS[target].float_reason))
    if tid == T.INT16X8:
        said += tr(" (int16x8 runs only on CPU reference kernels; {reason})",
                   reason=tr(TARGETS[target].int16x8_reason))
    if answers.data == DataNeed.LABELLED and answers.can_retrain:
        if tid == T.QAT:
            return Choice(T.QAT, "qat+integer_only")
        return Choice(T.QAT, "qat+integer_only", tr(
            "{said}. You have labelled data and can retrain, so the recommendation is "
            "quantization-aware training converted integer-only (qat+integer_only): of the "
            "full-integer techniques it loses the least accuracy (the guide's table: 'Smallest "
            "accuracy loss'), and the guide's workflow turns to QAT when an accelerator needs "
            "it [{source}]. Post-training integer_only needs no retraining and is offered as an "
            "alternative.", said=said, source=tr(GUIDE)))
    if answers.data == DataNeed.NONE:
        return Choice(None, None, tr(
            "{said}, and every full-integer technique needs data: post-training integer-only "
            "quantization calibrates on representative samples and QAT retrains on labelled "
            "data. Nothing that runs {on} can be made without data; see what would unlock it.",
            said=said, on=on_target(target)))
    have = (tr("unlabelled representative samples") if answers.data == DataNeed.REPRESENTATIVE
            else tr("labelled data but cannot retrain"))
    return Choice(T.INTEGER_ONLY, T.INTEGER_ONLY.value, tr(
        "{said}. You have {have}, so the recommendation is post-training integer quantization "
        "with integer-only ops and int8 input/output (integer_only): the companion tree answers "
        "'{question}' with Y for this target [{source}].",
        said=said, have=have, question=tr(PTQ_TREE.node("P4").text), source=tr(GUIDE_PTQ)))


@dataclass(frozen=True)
class UnlockOption:
    """Data that would make a technique runnable: what to add and which spec it unlocks."""

    data: DataNeed
    retrain: bool
    run_spec: str
    text: str

    def to_dict(self) -> dict:
        return {"data": self.data.value, "retrain": self.retrain, "run_spec": self.run_spec,
                "text": self.text}


def unlock_options(answers, choice: Choice) -> tuple[UnlockOption, ...]:
    """When nothing runnable can be recommended, exactly what data would unlock it."""
    if choice.technique is not None:
        return ()
    where = on_target(answers.target)
    return (
        UnlockOption(DataNeed.REPRESENTATIVE, False, T.INTEGER_ONLY.value, tr(
            "Add 100-500 unlabelled representative samples (inputs from your training or "
            "validation data) to run post-training integer-only quantization (integer_only) "
            "{where} [{source}].", where=where, source=tr(GUIDE_PTQ))),
        UnlockOption(DataNeed.LABELLED, True, "qat+integer_only", tr(
            "Add labelled training data and allow retraining to run quantization-aware "
            "training converted integer-only (qat+integer_only) {where} [{source}].",
            where=where, source=tr(GUIDE))),
    )


def hardware_reason(tid: TechniqueId, target: Target) -> Message | None:
    """Why ``tid``'s file cannot run on ``target``; None when it can (the guide's table). A
    ``Message`` (English text, its data kept): the search records it for a page to write in
    its reader's language; ``why_not`` writes it in the language in use."""
    info = TECHNIQUES[tid]
    if target in info.targets:
        return None
    if Format.INT16X8 in info.formats:
        return msg("int16x8 runs only on CPU reference kernels; {reason}",
                   reason=msg(TARGETS[target].int16x8_reason))
    if target in INTEGER_ONLY_TARGETS:
        fmt = info.formats[0]
        int8 = int8_conversion(target)
        if info.retrains:
            what = msg("{technique} alone leaves a {format} model; follow it with {int8} "
                       "({technique}+{int8})", technique=tid.value, format=msg(fmt.label),
                       int8=int8)
        else:
            what = msg(fmt.not_integer_only)
        return msg("{reason}; {what}", reason=msg(TARGETS[target].float_reason), what=what)
    if TARGETS[target].float_only:
        return msg("the guide lists it for {hardware} only, not for a desktop GPU delegate; "
                   "float16 is the GPU choice", hardware=msg(info.guide_hardware))
    return msg("the guide lists it for {hardware}, which does not include {target}",
               hardware=msg(info.guide_hardware), target=msg(TARGETS[target].phrase))


def data_reason(tid: TechniqueId, answers) -> Message | None:
    """Why the user's data (or the answer to 'can you retrain') rules ``tid`` out; else None
    (a ``Message``, like ``hardware_reason``)."""
    info = TECHNIQUES[tid]
    if info.retrains:
        if answers.data == DataNeed.NONE:
            return msg("needs labelled training data; you have none")
        if answers.data == DataNeed.REPRESENTATIVE:
            return msg("needs labelled training data to fine-tune; you have only unlabelled "
                       "samples")
        if not answers.can_retrain:
            return msg("retrains (fine-tunes) the model; you said you cannot retrain")
        return None
    if info.data == DataNeed.REPRESENTATIVE and answers.data == DataNeed.NONE:
        return msg("needs 100-500 unlabelled representative samples to calibrate activations; "
                   "you have no data")
    return None


# Why the user's answer at a question leads away from a leaf: keyed by (question, answer).
_DIVERGE = {
    ("Q1", NO): N_("you chose not to optimize, so the tree converts a float TFLite model"),
    ("Q2", NO): N_("you asked for about 2x smaller; float16 gives that without data and with "
                   "insignificant accuracy loss"),
    ("Q2", YES): N_("you asked for a bigger size reduction; float16 gives at most about 2x "
                    "(up to 50%)"),
    ("Q3", NO): N_("you asked for the quickest path, so the tree stops at dynamic range "
                   "quantization, which needs no data or training"),
    ("Q3", YES): N_("you accept more effort, so the tree goes past dynamic range quantization"),
    ("Q4", YES): N_("you can retrain with labelled data, so the tree picks quantization-aware "
                    "training, which loses the least accuracy"),
    ("Q4", NO): N_("you cannot retrain, so the tree goes on to the post-training techniques"),
    ("Q5", YES): N_("you have representative data, so the tree goes on to integer quantization, "
                    "which also quantizes activations"),
    ("Q5", NO): N_("you have no representative dataset, so the tree falls back to dynamic range "
                   "quantization"),
    ("Q6", YES): N_("you asked for higher accuracy, so the tree picks int16 activations"),
    ("Q6", NO): N_("standard accuracy is enough; int16 activations are for accuracy-sensitive "
                   "models and run only on slow reference kernels"),
}


def tree_reason(tid: TechniqueId, steps: tuple[tuple[str, str], ...]) -> str | None:
    """Where the user's path leaves every tree path to ``tid``'s leaf, as a sentence.

    ``integer_only`` shares the integer leaf. With several paths to a leaf (dynamic range),
    the one that diverges last (closest to the user's own path) explains it. None when the
    user's path reaches the leaf, or ``tid`` is not in the tree.
    """
    leaf_tid = T.INTEGER if tid == T.INTEGER_ONLY else tid
    user = dict(steps)
    best = None
    for trail, leaf_id in QUANT_TREE.paths():
        if QUANT_TREE.node(leaf_id).technique != leaf_tid:
            continue
        for index, (question, answer) in enumerate(trail):
            if user.get(question) != answer:
                if best is None or index > best[0]:
                    best = (index, question, user[question])
                break
        else:
            return None
    if best is None:
        return None
    _, question, answer = best
    text = tr(QUANT_TREE.node(question).text)
    return tr("{why} ({question} '{text}' = {answer})", why=tr(_DIVERGE[(question, answer)]),
              question=question, text=text, answer=answer_label(answer))


def why_not(tid: TechniqueId, answers, steps, choice: Choice) -> str:
    """The human reason ``tid`` is not the recommendation, most decisive reason first:
    not optimizing, then hardware, then data, then where the tree went instead."""
    if not answers.optimize:
        return tr("you chose not to optimize ('{question}' = N), so the tree converts a float "
                  "TFLite model", question=tr(QUANT_TREE.node("Q1").text))
    reason = hardware_reason(tid, answers.target) or data_reason(tid, answers)
    if reason:
        return reason.render()
    if tid == T.FLOAT32:
        return tr("the float baseline, not an optimization: it is converted first and every "
                  "variant is compared with it")
    if tid == T.INTEGER_ONLY:
        if choice.technique == T.QAT:
            return tr("you can retrain with labelled data, and quantization-aware training "
                      "loses less accuracy than post-training integer quantization (the "
                      "guide's table: 'Smallest' vs 'Small accuracy loss')")
        if choice.technique in (T.INTEGER, T.INT16X8):
            return tr(_INTEGER_ONLY_NOT_NEEDED, on=on_target(answers.target),
                      p4=tr(PTQ_TREE.node("P4").text))
    outside = outside_tree(tid)
    if tid in QAT_FAMILY and tid != T.QAT and choice.technique not in QAT_FAMILY:
        before = tree_reason(T.QAT, steps)
        return f"{before}; {outside}" if before else outside
    reason = tree_reason(tid, steps)
    if reason:
        return reason
    if _in_tree(tid):
        return tr("the tree reaches another leaf for your answers")
    return outside


def _in_tree(tid: TechniqueId) -> bool:
    """True when a leaf of the guide's quantization tree names ``tid`` (integer_only shares
    the integer leaf)."""
    leaf_tid = T.INTEGER if tid == T.INTEGER_ONLY else tid
    return any(QUANT_TREE.node(leaf).technique == leaf_tid for _, leaf in QUANT_TREE.paths())


def outside_tree(tid: TechniqueId) -> str:
    """Why the guide's tree does not pick a technique it has no leaf for: the row's own
    ``outside_tree`` sentence, or one built from the row (in the language in use)."""
    row = TECHNIQUES[tid]
    if row.outside_tree:
        return tr(row.outside_tree)
    return tr("not in the guide's quantization tree: {title} is offered to compare with the "
              "tree's pick, measured like the others", title=tr(row.title))


def hardware_notes(answers, choice: Choice) -> tuple[str, ...]:
    """Caveats about the target: the footnote when it changed the leaf, what this app cannot
    measure, and deployment steps the app does not do."""
    target, notes = answers.target, []
    if choice.override:
        notes.append(tr("The tree's footnote: \"{footnote}\" The recommendation follows it for "
                        "{target}.", footnote=tr(QUANT_TREE_FOOTNOTE), target=_phrase(target)))
    if not answers.optimize and target in INTEGER_ONLY_TARGETS:
        notes.append(tr("A float model will not run there: {reason} (fully 8-bit quantized). "
                        "Answer Y to '{question}' to get one.",
                        reason=tr(TARGETS[target].float_reason),
                        question=tr(QUANT_TREE.node("Q1").text)))
    if TARGETS[target].deployment and choice.technique is not None and answers.optimize:
        notes.append(tr(TARGETS[target].deployment))
    if choice.technique == T.INT16X8:
        notes.append(tr("int16x8 has only unoptimized reference kernels: expect it to be slower "
                        "than int8, not faster; its speed needs specialised hardware "
                        "[{source}].", source=tr(GUIDE)))
    if not TARGETS[target].measured_here:
        notes.append(tr("This app measures latency on its own CPU, not {target}: sizes and "
                        "accuracy carry over, timings do not.", target=_phrase(target)))
    return tuple(notes)

