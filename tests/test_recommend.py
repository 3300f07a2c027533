"""The decision tree as data, and recommend(): every tree path, every hardware rule, and the
invariants (every technique recommended or excluded exactly once, reasons present) over every
combination of answers."""
from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

# Public names first: importing the submodule before the package binds its lazy names would
# leave ``optimizer.recommend`` pointing at the module instead of the function.
from optimizer import QUANT_TREE, Answers, recommend
from optimizer.guide.registry import DataNeed, TechniqueId, parse_spec
from optimizer.guide.targets import Target
from optimizer.recommendation.decide import AccuracyPriority, Effort, SizeReduction
from optimizer.recommendation.tree import PTQ_TREE, DecisionTree, NodeKind, TreeEdge, TreeNode

T = TechniqueId

# The guide's image, transcribed in shared/reference/model-optimization.md.
QUESTIONS = {
    "Q1": "Optimize model?",
    "Q2": "Want bigger model size reduction?",
    "Q3": "More efforts required?",
    "Q4": "Able to re-train the model?",
    "Q5": "Have representative dataset?",
    "Q6": "Want higher accuracy?",
}
LEAVES = {
    "L_FLOAT32": ("Convert float TFLite models", T.FLOAT32),
    "L_FLOAT16": ("Post-training float16 quantization", T.FLOAT16),
    "L_DYNAMIC_RANGE": ("Post-training dynamic range quantization", T.DYNAMIC_RANGE),
    "L_QAT": ("Quantization-aware training", T.QAT),
    "L_INT16X8": ("Post-training integer quantization with int16 activations", T.INT16X8),
    "L_INTEGER": ("Post-training integer quantization", T.INTEGER),
}
EDGES = {
    ("Q1", "N", "L_FLOAT32"), ("Q1", "Y", "Q2"), ("Q2", "N", "L_FLOAT16"), ("Q2", "Y", "Q3"),
    ("Q3", "N", "L_DYNAMIC_RANGE"), ("Q3", "Y", "Q4"), ("Q4", "Y", "L_QAT"), ("Q4", "N", "Q5"),
    ("Q5", "N", "L_DYNAMIC_RANGE"), ("Q5", "Y", "Q6"), ("Q6", "Y", "L_INT16X8"),
    ("Q6", "N", "L_INTEGER"),
}


# --- the tree as data -------------------------------------------------------------------------

def test_quant_tree_transcribes_the_guide_exactly():
    assert {n.id: n.text for n in QUANT_TREE.questions} == QUESTIONS
    assert {n.id: (n.text, n.technique) for n in QUANT_TREE.leaves} == LEAVES
    assert {(e.source, e.label, e.target) for e in QUANT_TREE.edges} == EDGES
    assert QUANT_TREE.root == "Q1"


def test_q5_no_is_the_same_leaf_as_q3_no_and_there_are_seven_paths():
    assert QUANT_TREE.next("Q5", "N").id == QUANT_TREE.next("Q3", "N").id == "L_DYNAMIC_RANGE"
    paths = QUANT_TREE.paths()
    assert len(paths) == 7
    assert len({trail for trail, _ in paths}) == 7
    assert sorted(leaf for _, leaf in paths).count("L_DYNAMIC_RANGE") == 2


def test_ptq_tree_transcribes_the_companion_page():
    assert [n.text for n in PTQ_TREE.questions] == [
        "Optimize model?", "Limit to float16 supported types (i.e. GPU)?",
        "Have RepresentativeDataset?", "Limit to Int8 ops?"]
    leaves = {n.id: n.technique for n in PTQ_TREE.leaves}
    assert leaves == {"PL_FLOAT32": T.FLOAT32, "PL_FLOAT16": T.FLOAT16,
                      "PL_DYNAMIC_RANGE": T.DYNAMIC_RANGE, "PL_INTEGER_ONLY": T.INTEGER_ONLY,
                      "PL_INTEGER": T.INTEGER}
    assert PTQ_TREE.next("P2", "Y").technique == T.FLOAT16
    assert PTQ_TREE.next("P4", "Y").technique == T.INTEGER_ONLY
    assert PTQ_TREE.next("P4", "N").technique == T.INTEGER
    assert len(PTQ_TREE.paths()) == 5


def test_tree_to_dict_is_json_ready_for_drawing():
    data = json.loads(json.dumps(QUANT_TREE.to_dict()))
    assert {n["id"] for n in data["nodes"]} == set(QUESTIONS) | set(LEAVES)
    assert {n["kind"] for n in data["nodes"]} == {"question", "leaf"}
    assert len(data["edges"]) == 12 and {e["label"] for e in data["edges"]} == {"Y", "N"}


def _q(i):
    return TreeNode(i, NodeKind.QUESTION, i + "?")


def _l(i):
    return TreeNode(i, NodeKind.LEAF, i, T.FLOAT16)


@pytest.mark.parametrize("nodes, edges, message", [
    ((_q("A"), _l("B")), (TreeEdge("A", "B", "Y"),), "exactly one Y and one N"),
    ((_q("A"), _l("B")), (TreeEdge("A", "B", "Y"), TreeEdge("A", "X", "N")), "unknown node"),
    ((_q("A"), _l("B")), (TreeEdge("A", "B", "Y"), TreeEdge("A", "B", "maybe")), "use 'Y' or 'N'"),
    ((_q("A"), _l("B"), _l("C")), (TreeEdge("A", "B", "Y"), TreeEdge("A", "B", "N")),
     "unreachable"),
    ((_q("A"), _l("A")), (), "duplicate"),
])
def test_decision_tree_validates_its_shape(nodes, edges, message):
    with pytest.raises(ValueError, match=message):
        DecisionTree("t", "src", "A", nodes, edges)


# --- the seven cpu paths ----------------------------------------------------------------------

CPU_PATHS = [
    # answers, path taken, leaf, technique, run_spec
    (dict(optimize=False), "Q1N", "L_FLOAT32", T.FLOAT32, "float32"),
    (dict(size_goal="2x"), "Q1Y Q2N", "L_FLOAT16", T.FLOAT16, "float16"),
    (dict(size_goal="4x", effort="quick"), "Q1Y Q2Y Q3N", "L_DYNAMIC_RANGE", T.DYNAMIC_RANGE,
     "dynamic_range"),
    (dict(effort="thorough", data="labelled", can_retrain=True), "Q1Y Q2Y Q3Y Q4Y", "L_QAT",
     T.QAT, "qat"),
    (dict(effort="thorough", data="none"), "Q1Y Q2Y Q3Y Q4N Q5N", "L_DYNAMIC_RANGE",
     T.DYNAMIC_RANGE, "dynamic_range"),
    (dict(effort="thorough", data="unlabelled", accuracy="high"), "Q1Y Q2Y Q3Y Q4N Q5Y Q6Y",
     "L_INT16X8", T.INT16X8, "int16x8"),
    (dict(effort="thorough", data="labelled", can_retrain=False), "Q1Y Q2Y Q3Y Q4N Q5Y Q6N",
     "L_INTEGER", T.INTEGER, "integer"),
]


def _steps(rec) -> str:
    return " ".join(f"{s.node}{s.answer}" for s in rec.path)


@pytest.mark.parametrize("kw, path, leaf, technique, spec", CPU_PATHS)
def test_every_cpu_leaf(kw, path, leaf, technique, spec):
    rec = recommend(Answers(target="cpu", **kw))
    assert _steps(rec) == path
    assert rec.leaf == leaf and rec.tree_technique == technique
    assert rec.technique == technique and rec.run_spec == spec
    assert rec.override is None
    assert [s.question for s in rec.path] == [QUESTIONS[s.node] for s in rec.path]
    assert QUANT_TREE.next(rec.path[-1].node, rec.path[-1].answer).id == leaf


def test_cpu_table_covers_every_tree_path():
    covered = {tuple((s.node, s.answer) for s in recommend(Answers(**kw)).path)
               for kw, *_ in CPU_PATHS}
    assert covered == {trail for trail, _ in QUANT_TREE.paths()}


def test_can_retrain_counts_only_with_labelled_data():
    for data in ("none", "unlabelled"):
        rec = recommend(Answers(data=data, can_retrain=True, effort="thorough"))
        q4 = next(s for s in rec.path if s.node == "Q4")
        assert q4.answer == "N" and "labelled" in q4.because
        assert rec.technique != T.QAT


# --- hardware rules ---------------------------------------------------------------------------

INTEGER_ONLY = [
    # target, data, can_retrain -> technique, run_spec
    ("edgetpu", "none", True, None, None),
    ("edgetpu", "unlabelled", True, T.INTEGER_ONLY, "integer_only"),
    ("edgetpu", "labelled", False, T.INTEGER_ONLY, "integer_only"),
    ("edgetpu", "labelled", True, T.QAT, "qat+integer_only"),
    ("mcu", "none", False, None, None),
    ("mcu", "unlabelled", False, T.INTEGER_ONLY, "integer_only"),
    ("mcu", "labelled", False, T.INTEGER_ONLY, "integer_only"),
    ("mcu", "labelled", True, T.QAT, "qat+integer_only"),
]
TREE_SHAPES = [dict(size_goal="2x"), dict(size_goal="4x", effort="quick"),
               dict(effort="thorough"), dict(effort="thorough", accuracy="high")]


@pytest.mark.parametrize("shape", TREE_SHAPES, ids=lambda s: "-".join(s.values()))
@pytest.mark.parametrize("target, data, retrain, technique, spec", INTEGER_ONLY)
def test_edgetpu_and_mcu_get_only_full_integer(target, data, retrain, technique, spec, shape):
    rec = recommend(Answers(target=target, data=data, can_retrain=retrain, **shape))
    if target == "mcu" and rec.tree_technique == T.INT16X8 and technique == T.INTEGER_ONLY:
        # the tree's int16x8 leaf stays: TFLite Micro runs int16x8 (its interpreter says so)
        technique, spec = T.INT16X8, "int16x8"
    assert rec.technique == technique and rec.run_spec == spec
    assert rec.path and rec.leaf.startswith("L_")  # the tree's own leaf is still shown
    if rec.tree_technique != technique:
        assert rec.override and "full-integer" in rec.override
        assert any("footnote" in n for n in rec.notes)
    for alt in rec.alternatives:
        assert parse_spec(alt).targets >= {Target(target)}
        # integer_only, or int16x8 where TFLite Micro runs it
        assert parse_spec(alt).conversion in (T.INTEGER_ONLY, T.INT16X8)
        assert parse_spec(alt).conversion_row.format.integer_compute


@pytest.mark.parametrize("target", ["edgetpu", "mcu"])
def test_no_data_on_integer_only_target_says_what_unlocks_it(target):
    rec = recommend(Answers(target=target, data="none"))
    assert rec.technique is None and rec.run_spec is None and not rec.runnable
    assert rec.alternatives == ()
    assert [(u.data, u.retrain, u.run_spec) for u in rec.unlock] == [
        (DataNeed.REPRESENTATIVE, False, "integer_only"), (DataNeed.LABELLED, True,
                                                           "qat+integer_only")]
    assert "100-500 unlabelled representative samples" in rec.unlock[0].text
    assert "labelled training data" in rec.unlock[1].text
    assert rec.to_dict()["technique"] is None
    assert len(rec.excluded) == len(TechniqueId)
    # and the unlocked answers really recommend what the unlock promised
    for option in rec.unlock:
        again = recommend(Answers(target=target, data=option.data, can_retrain=option.retrain))
        assert again.run_spec == option.run_spec


@pytest.mark.parametrize("kw", [kw for kw, *_ in CPU_PATHS if kw.get("optimize", True)])
def test_desktop_gpu_gets_float16_and_hears_why_not_more(kw):
    rec = recommend(Answers(target="gpu", **kw))
    assert rec.technique == T.FLOAT16 and rec.run_spec == "float16"
    if rec.tree_technique != T.FLOAT16:
        assert "not offered for a desktop GPU" in rec.override
        assert rec.exclusion(rec.tree_technique).reason.startswith(
            "int16x8 runs only on CPU reference kernels" if rec.tree_technique == T.INT16X8
            else "the guide lists it for")
    assert all(T.FLOAT16 in (parse_spec(a).conversion,) for a in rec.alternatives)


def test_gpu_android_falls_back_from_int16x8_to_integer():
    rec = recommend(Answers(target="gpu-android", data="unlabelled", effort="thorough",
                            accuracy="high"))
    assert rec.leaf == "L_INT16X8" and rec.tree_technique == T.INT16X8
    assert rec.technique == T.INTEGER and rec.run_spec == "integer"
    assert "int16x8 runs only on CPU reference kernels" in rec.override
    assert rec.exclusion(T.INT16X8).reason == (
        "int16x8 runs only on CPU reference kernels; GPU delegates don't support it")


@pytest.mark.parametrize("kw, technique", [(CPU_PATHS[i][0], CPU_PATHS[i][3]) for i in range(1, 7)
                                           if CPU_PATHS[i][3] != T.INT16X8])
def test_gpu_android_keeps_the_other_leaves(kw, technique):
    rec = recommend(Answers(target="gpu-android", **kw))
    assert rec.technique == technique and rec.override is None


@pytest.mark.parametrize("target", list(Target))
def test_no_optimize_gives_float32_on_every_target(target):
    rec = recommend(Answers(optimize=False, target=target, data="labelled"))
    assert rec.technique == T.FLOAT32 and rec.run_spec == "float32"
    assert _steps(rec) == "Q1N" and rec.leaf == "L_FLOAT32"
    assert rec.alternatives == ()
    warned = any("will not run" in n for n in rec.notes)
    assert warned == (target in (Target.EDGETPU, Target.MCU))


# --- invariants over every combination of answers ---------------------------------------------

ALL_ANSWERS = [
    Answers(optimize=o, data=d, can_retrain=r, target=t, size_goal=s, effort=e, accuracy=a)
    for o, d, r, t, s, e, a in itertools.product(
        (True, False), DataNeed, (True, False), Target, SizeReduction, Effort, AccuracyPriority)
]


def test_invariants_for_every_combination_of_answers():
    for answers in ALL_ANSWERS:
        rec = recommend(answers)
        named = [e.technique for e in rec.excluded] + ([rec.technique] if rec.technique else [])
        assert sorted(named) == sorted(TechniqueId), answers
        assert all(e.reason.strip() for e in rec.excluded), answers
        assert rec.reasons and all(r.strip() for r in rec.reasons), answers
        assert QUANT_TREE.next(rec.path[-1].node, rec.path[-1].answer).id == rec.leaf
        assert len(set(rec.alternatives)) == len(rec.alternatives)
        if rec.technique is not None:
            spec = parse_spec(rec.run_spec)
            assert spec.text == rec.run_spec and spec.base == rec.technique
            assert rec.run_spec not in rec.alternatives
            if answers.optimize:
                assert answers.target in spec.targets, answers
        else:
            assert rec.unlock, answers
        if rec.technique != rec.tree_technique:
            assert rec.override, answers
        if rec.technique == T.INT16X8:
            assert answers.target in (Target.CPU, Target.MCU)   # TFLite Micro runs int16x8
        if answers.target in (Target.EDGETPU, Target.MCU) and answers.optimize:
            assert rec.technique in (None, T.INTEGER_ONLY, T.QAT) or (
                answers.target == Target.MCU and rec.technique == T.INT16X8)
        for alt in rec.alternatives:
            spec = parse_spec(alt)
            assert answers.target in spec.targets, (answers, alt)
            assert not spec.retrains or answers.retrain, (answers, alt)
            assert spec.data != DataNeed.REPRESENTATIVE or answers.data != DataNeed.NONE


def test_recommend_is_pure_and_answers_are_not_mutated():
    answers = Answers(data="labelled", effort="thorough", target="edgetpu")
    before = answers.to_dict()
    assert recommend(answers) == recommend(answers)
    assert answers.to_dict() == before


# --- exclusion reasons ------------------------------------------------------------------------

@pytest.mark.parametrize("kw, technique, expected", [
    (dict(data="none"), T.QAT, "needs labelled training data; you have none"),
    (dict(data="unlabelled"), T.PRUNING, "needs labelled training data to fine-tune; you have "
                                         "only unlabelled samples"),
    (dict(data="labelled", can_retrain=False), T.CLUSTERING, "you said you cannot retrain"),
    (dict(data="none"), T.INTEGER, "needs 100-500 unlabelled representative samples"),
    (dict(target="edgetpu", data="unlabelled"), T.FLOAT16,
     "the Edge TPU runs only full-integer models"),
    (dict(target="mcu", data="unlabelled"), T.DYNAMIC_RANGE,
     "microcontrollers run only full-integer models"),
    (dict(target="gpu"), T.INT16X8,
     "int16x8 runs only on CPU reference kernels; GPU delegates don't support it"),
    (dict(size_goal="2x"), T.DYNAMIC_RANGE, "you asked for about 2x smaller; float16 gives that "
                                            "without data"),
    (dict(size_goal="4x"), T.FLOAT16, "you asked for a bigger size reduction"),
    (dict(data="labelled", effort="thorough"), T.INTEGER, "you can retrain with labelled data"),
    (dict(data="unlabelled", effort="thorough"), T.INT16X8, "Q6 'Want higher accuracy?' = N"),
    (dict(data="unlabelled", effort="quick"), T.INTEGER, "you asked for the quickest path"),
    (dict(data="unlabelled", effort="thorough", accuracy="high"), T.INTEGER,
     "you asked for higher accuracy"),
    (dict(data="unlabelled", effort="thorough"), T.INTEGER_ONLY, "Limit to Int8 ops?"),
    (dict(target="edgetpu", data="labelled"), T.INTEGER_ONLY,
     "quantization-aware training loses less accuracy"),
    (dict(), T.FLOAT32, "the float baseline"),
    (dict(optimize=False), T.FLOAT16, "you chose not to optimize"),
])
def test_exclusion_reasons_are_specific(kw, technique, expected):
    rec = recommend(Answers(**kw))
    assert expected in rec.exclusion(technique).reason


def test_alternatives_are_marked_in_their_exclusion():
    rec = recommend(Answers(data="labelled", effort="thorough"))
    assert rec.technique == T.QAT
    assert {"integer", "pruning+integer", "clustering+integer"} <= set(rec.alternatives)
    assert "pruning+integer is offered as an alternative" in rec.exclusion(T.PRUNING).reason
    assert "offered" not in rec.exclusion(T.PQAT).reason


def test_edgetpu_qat_offers_post_training_integer_only_to_compare():
    rec = recommend(Answers(target="edgetpu", data="labelled", can_retrain=True))
    assert rec.run_spec == "qat+integer_only"
    assert rec.alternatives[0] == "integer_only"
    assert any("qat+integer_only" in r for r in rec.reasons)


def test_reasons_cite_the_guide_and_the_companion_tree():
    from optimizer.guide.registry import GUIDE, GUIDE_PTQ

    rec = recommend(Answers(target="edgetpu", data="unlabelled"))
    assert any(GUIDE in r for r in rec.reasons)
    assert any(GUIDE_PTQ in r and "Limit to Int8 ops? Y" in r for r in rec.reasons)
    assert [s.node for s in rec.companion_path] == ["P1", "P2", "P3", "P4"]


# --- Answers and to_dict ----------------------------------------------------------------------

@pytest.mark.parametrize("kw, message", [
    (dict(target="tpu"), "target 'tpu' is not valid; use one of: cpu, gpu, gpu-android"),
    (dict(data="some"), "data 'some' is not valid; use one of: none, unlabelled, labelled"),
    (dict(size_goal="3x"), "use one of: 2x, 4x"),
    (dict(effort="max"), "use one of: quick, thorough"),
    (dict(accuracy="best"), "use one of: standard, high"),
    (dict(optimize="yes"), "optimize must be True or False"),
    (dict(can_retrain=1), "can_retrain must be True or False"),
])
def test_answers_validation_names_the_fix(kw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Answers(**kw)


def test_answers_round_trip_and_coercion():
    answers = Answers(data="labelled", target="gpu-android", size_goal="2x")
    assert answers.data is DataNeed.LABELLED and answers.target is Target.GPU_ANDROID
    assert Answers.from_dict(answers.to_dict()) == answers
    with pytest.raises(ValueError, match="unknown answer keys"):
        Answers.from_dict({"hardware": "cpu"})
    with pytest.raises(ValueError, match="needs an Answers object"):
        recommend({"target": "cpu"})


def test_to_dict_has_the_cli_contract():
    rec = recommend(Answers(data="labelled", effort="thorough", target="edgetpu"))
    data = json.loads(json.dumps(rec.to_dict()))
    assert data["technique"] == "qat"
    assert data["path"] == [{"question": s.question, "answer": s.answer} for s in rec.path]
    assert all(set(item) == {"technique", "reason"} for item in data["excluded"])
    assert data["alternatives"] == list(rec.alternatives)
    assert data["run_spec"] == "qat+integer_only" and data["leaf"] == "L_QAT"


def test_recommend_module_stays_light():
    code = ("import sys, optimizer.recommendation.decide, optimizer.recommendation.tree, "
            "optimizer.guide.goals; "
            "print([m for m in ('numpy', 'pandas', 'tensorflow', 'streamlit') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_public_names_resolve_to_the_function_and_classes():
    import optimizer

    assert callable(optimizer.recommend) and optimizer.recommend is recommend
    assert optimizer.QUANT_TREE is QUANT_TREE
