"""Requests are files: RunRequest and SearchRequest round-trip exactly over every field, the
pages' Goals become requests through one builder, the flags and ``--request FILE`` build the
same requests, and "must be ready" has one owner (the target row). Fast: no TensorFlow."""
from __future__ import annotations

import json
from dataclasses import MISSING, fields

import pytest

from optimizer import AccuracyGoal, Answers, Goals, LatencyGoal, McuBudget, SizeGoal, TargetGoal
from optimizer.cli import UsageError, build_parser, main
from optimizer.cli.run import request_from_args
from optimizer.cli.search import _request as search_request_from_args
from optimizer.guide.goal_fields import GoalFields
from optimizer.guide.ids import DataNeed
from optimizer.guide.targets import TARGETS, Target
from optimizer.recommendation.decide import Effort
from optimizer.runs.request import RunRequest
from optimizer.search.request import SearchRequest

AWKWARD = (0.1234567, 1e-9, 3.0000000000000004)

#: Requests that, together, set every field of their class away from its default, with the
#: awkward floats, enums, tuples and None where a field allows them. A new field fails
#: ``test_the_examples_cover_every_field`` until it is set here: one edit plus its test.
RUNS = [
    RunRequest(model="digits-cnn", techniques=("float16", "pruning+dynamic_range", "mixed"),
               data="/data/x.npz", settings=("pruning.sparsity=0.1234567",
                                             "finetune.learning_rate=1e-09",
                                             'mixed.plan={"io": "integer", "layers": '
                                             '{"dense #2": "int16", "conv2d": "int8"}}'),
               answers=Answers(data="labelled", can_retrain=False, target="mcu",
                               size_goal="2x", effort="thorough", accuracy="high",
                               optimize=True),
               target="mcu", max_accuracy_drop=0.1234567, relative=True,
               max_size_ratio=0.30000000000000004, max_latency_ms=1e-9, size_measure="gzip",
               mcu_ram_kb=256, mcu_flash_kb=1024, must_be_ready=False),
    RunRequest(model="m.h5", max_size_bytes=40_000, max_accuracy_drop=3.0000000000000004,
               target="npu-intel", must_be_ready=True),
]
SEARCHES = [
    SearchRequest(model="digits-cnn", data="/data/x.npz", time_budget_s=30.000000000000004,
                  settings=("finetune.epochs=1",),
                  knob_levels={"pruning.sparsity": (0.1234567, 0.30000000000000004),
                               "clustering.clusters": (3, 7)},
                  max_float_layers=7, objective="accuracy", target="mcu",
                  max_accuracy_drop=1e-9, relative=True, max_size_ratio=0.1234567,
                  max_latency_ms=3.0000000000000004, size_measure="gzip", mcu_ram_kb=256,
                  mcu_flash_kb=1024, must_be_ready=False, precision_strategy="op-type",
                  max_precision_trials=3, techniques=("integer_only", "int16x8")),
    SearchRequest(model="m", target="edgetpu", max_size_bytes=1, must_be_ready=True),
]


def _default(f):
    return f.default_factory() if f.default_factory is not MISSING else f.default


@pytest.mark.parametrize("cls, examples", [(RunRequest, RUNS), (SearchRequest, SEARCHES)])
def test_the_examples_cover_every_field(cls, examples):
    names = {f.name for f in fields(cls)}
    assert set(examples[0].to_dict()) == names          # to_dict writes every field
    covered = {f.name for f in fields(cls) for ex in examples
               if f.default is MISSING and f.default_factory is MISSING
               or getattr(ex, f.name) != _default(f)}
    assert covered == names


@pytest.mark.parametrize("request_", RUNS + SEARCHES, ids=lambda r: type(r).__name__)
def test_every_field_survives_a_json_file_exactly(request_):
    cls = type(request_)
    back = cls.from_dict(json.loads(json.dumps(request_.to_dict())))
    assert back == request_
    for f in fields(cls):
        mine, theirs = getattr(request_, f.name), getattr(back, f.name)
        assert type(theirs) is type(mine), f.name       # tuples, enums, Answers come back
        assert repr(theirs) == repr(mine), f.name       # floats bit for bit
    for value in AWKWARD:
        if value in [v for f in fields(cls) for v in _flat(getattr(request_, f.name))]:
            assert value in [v for f in fields(cls) for v in _flat(getattr(back, f.name))]


def _flat(value):
    return list(value) if isinstance(value, tuple) else [value]


def test_awkward_floats_are_written_as_they_are():
    text = json.dumps(RUNS[0].to_dict())
    assert "0.1234567" in text and "0.30000000000000004" in text and "1e-09" in text
    assert "3.0000000000000004" in json.dumps(SEARCHES[0].to_dict())
    assert isinstance(SearchRequest.from_dict(SEARCHES[0].to_dict()).target, Target)
    assert RunRequest.from_dict(RUNS[0].to_dict()).answers.effort is Effort.THOROUGH
    assert RunRequest.from_dict(RUNS[0].to_dict()).answers.data is DataNeed.LABELLED


@pytest.mark.parametrize("cls, good", [(RunRequest, RUNS[0]), (SearchRequest, SEARCHES[0])])
def test_unknown_missing_and_malformed_keys_are_refused_with_the_valid_ones(cls, good):
    data = good.to_dict()
    with pytest.raises(ValueError, match=r"unknown .* keys \['speed'\]; use: model"):
        cls.from_dict({**data, "speed": 1})
    with pytest.raises(ValueError, match="lacks model"):
        cls.from_dict({k: v for k, v in data.items() if k != "model"})
    with pytest.raises(ValueError, match="JSON object"):
        cls.from_dict([data])
    with pytest.raises(ValueError, match="unknown target 'tpu'"):
        cls.from_dict({**data, "target": "tpu", "mcu_ram_kb": None, "mcu_flash_kb": None,
                       **({"answers": None} if cls is RunRequest else {})})


def test_a_run_request_keeps_answers_and_target_as_one_answer():
    req = RunRequest(model="m", answers=Answers(target="edgetpu"))
    assert req.target is Target.EDGETPU and req.goals().target == TargetGoal("edgetpu")
    with pytest.raises(ValueError, match="give one target"):
        RunRequest(model="m", answers=Answers(target="cpu"), target="edgetpu")
    with pytest.raises(ValueError, match="unknown answer keys"):
        RunRequest.from_dict({"model": "m", "answers": {"colour": "red"}})
    assert RunRequest(model="m").goals() is None       # no goals given: none judged


def test_the_cache_key_part_leaves_out_what_only_judges():
    plain = RunRequest(model="digits-cnn", techniques=("float16",))
    judged = RunRequest.from_goals(Goals(accuracy=AccuracyGoal(0.02)), "edgetpu",
                                   model="digits-cnn", techniques=("float16",),
                                   answers=Answers(target="edgetpu"))
    assert plain.measured_dict() == judged.measured_dict()
    assert plain.measured_dict()["techniques"] == ["float16"]
    judging = {f.name for f in fields(GoalFields)} | {"answers"}
    assert set(RunRequest(model="m").to_dict()) - set(plain.measured_dict()) == judging


# -- one builder from the pages' Goals ---------------------------------------------------------

GOALS = [
    (None, "cpu"),
    (Goals(accuracy=AccuracyGoal(0.01)), "cpu"),
    (Goals(accuracy=AccuracyGoal(0.1234567, relative=True),
           size=SizeGoal(max_ratio=0.30000000000000004, compressed=True),
           latency=LatencyGoal(1e-9), target=TargetGoal("edgetpu")), "edgetpu"),
    (Goals(accuracy=AccuracyGoal(0.02), size=SizeGoal(max_bytes=40_000),
           mcu=McuBudget(ram_kb=256, flash_kb=None), target=TargetGoal("mcu")), "mcu"),
    (Goals(accuracy=AccuracyGoal(0.02)), "gpu"),          # "must be ready" turned off
]


@pytest.mark.parametrize("goals, target", GOALS)
def test_from_goals_is_the_exact_inverse_of_goals(goals, target):
    run = RunRequest.from_goals(goals, target, model="digits-cnn")
    assert run.goals() == goals
    assert RunRequest.from_dict(json.loads(json.dumps(run.to_dict()))).goals() == goals
    if goals is not None and goals.accuracy is not None:
        search = SearchRequest.from_goals(goals, target, model="digits-cnn")
        assert search.goals() == goals
        assert search.goals(higher_is_better=False).accuracy.higher_is_better is False


def test_from_goals_refuses_two_different_answers_for_one_field():
    goals = Goals(accuracy=AccuracyGoal(0.01), size=SizeGoal(max_bytes=10, compressed=True))
    assert SearchRequest.from_goals(goals, "cpu", model="m", size_measure="gzip").size_measure \
        == "gzip"
    with pytest.raises(ValueError, match="size_measure differ"):
        SearchRequest.from_goals(goals, "cpu", model="m", size_measure="raw")
    with pytest.raises(ValueError, match="readiness goal is for 'mcu'"):
        RunRequest.from_goals(Goals(target=TargetGoal("mcu")), "edgetpu", model="m")


def test_must_be_ready_has_one_owner_the_target_row():
    assert [t for t, row in TARGETS.items() if not row.ready_by_default] == [Target.CPU]
    for target, row in TARGETS.items():
        wanted = TargetGoal(target.value) if row.ready_by_default else None
        assert SearchRequest(model="m", target=target).goals().target == wanted
        assert RunRequest(model="m", target=target).readiness_required == row.ready_by_default


def test_the_pages_build_their_requests_with_from_goals(monkeypatch):
    from pages.common import questions, search_view

    goals = questions.goals_from_form(1.0, "absolute", "ratio", 4.0, True, 0.0,
                                      target="edgetpu", must_be_ready=True)
    assert goals.target == TargetGoal("edgetpu")
    assert questions.goals_from_form(1.0, "absolute", "none", 0, False, 0.0, target="cpu",
                                     must_be_ready=True).target is None
    monkeypatch.setattr(search_view.state, "get", lambda key, default=None: {
        search_view.state.MODEL: "digits-cnn"}.get(key, default))
    search = search_view.request_from_form("edgetpu", goals, 5, gzip=True)
    assert search == SearchRequest.from_goals(goals, "edgetpu", model="digits-cnn",
                                              time_budget_s=300.0)
    assert search.readiness_required and search.size_measure == "gzip"
    # post-training only: the request names the target's conversions, exact through its file
    quick = search_view.request_from_form("mcu", None, 30, scope="post-training")
    assert quick.techniques == ("integer_only", "int16x8") and quick.time_budget_s == 1800.0
    assert SearchRequest.from_dict(json.loads(json.dumps(quick.to_dict()))) == quick


# -- the flags and --request FILE ---------------------------------------------------------------

def _args(*argv):
    return build_parser().parse_args(list(argv))


def test_run_flags_record_the_apps_answers_and_goals():
    req = request_from_args(_args(
        "run", "--model", "digits-cnn", "--technique", "float16,integer_only",
        "--target", "edgetpu", "--max-accuracy-drop", "0.01", "--data-kind", "labelled",
        "--effort", "thorough", "--size-goal", "4x", "--accuracy", "standard", "--no-retrain",
        "--max-size-ratio", "0.5", "--size-measure", "gzip", "--max-latency-ms", "2"))
    assert req.answers == Answers(target="edgetpu", data="labelled", effort="thorough",
                                  can_retrain=False)
    assert req.goals() == Goals(accuracy=AccuracyGoal(0.01),
                                size=SizeGoal(max_ratio=0.5, compressed=True),
                                latency=LatencyGoal(2.0), target=TargetGoal("edgetpu"))
    assert req.techniques == ("float16", "integer_only")
    plain = request_from_args(_args("run", "--model", "digits-cnn"))
    assert plain.answers is None and plain.goals() is None
    mcu = request_from_args(_args("run", "--model", "m", "--target", "mcu", "--mcu-ram-kb",
                                  "256", "--no-must-be-ready"))
    assert mcu.goals() == Goals(mcu=McuBudget(ram_kb=256))


def test_request_files_are_read_whole_and_flags_beside_them_refused(tmp_path):
    file = tmp_path / "request.json"
    file.write_text(json.dumps(RUNS[0].to_dict()))
    assert request_from_args(_args("run", "--request", str(file))) == RUNS[0]
    with pytest.raises(UsageError, match="drop --technique, --max-accuracy-drop"):
        request_from_args(_args("run", "--request", str(file), "--technique", "float16",
                                "--max-accuracy-drop", "0.1"))
    search = tmp_path / "search.json"
    search.write_text(json.dumps(SEARCHES[0].to_dict()))
    assert search_request_from_args(_args("search", "--request", str(search))) == SEARCHES[0]
    with pytest.raises(UsageError, match="drop --time-budget "):
        search_request_from_args(_args("search", "--request", str(search), "--time-budget",
                                       "60"))


@pytest.mark.parametrize("command, content, fragment", [
    ("run", None, "not found"),
    ("run", "{not json", "not readable JSON"),
    ("run", json.dumps({"model": "digits-cnn", "speed": 1}), "unknown run request keys"),
    ("search", json.dumps({"model": "m", "time_budget_s": 3}), "at least 10"),
])
def test_a_bad_request_file_is_one_line_and_exit_2(tmp_path, capsys, command, content,
                                                    fragment):
    file = tmp_path / "r.json"
    if content is not None:
        file.write_text(content)
    assert main([command, "--request", str(file), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and fragment in err[0]
    assert not (tmp_path / "out").exists()                  # nothing started


def test_to_cli_args_is_gone():
    assert not hasattr(RunRequest, "to_cli_args") and not hasattr(SearchRequest, "to_cli_args")


def test_the_cli_prints_each_verdict_with_the_goals_it_misses(capsys):
    from optimizer import Result
    from optimizer.cli.run import print_checks
    from optimizer.report.judge import goal_checks

    base = Result(technique="float32", accuracy=0.98, size_bytes=100)
    small = Result(technique="integer_only", accuracy=0.90, size_bytes=25)
    goals = RunRequest(model="m", target="edgetpu", max_accuracy_drop=0.01).goals()
    print_checks(goal_checks([base, small], goals))
    out = capsys.readouterr().out
    assert "integer_only: misses the accuracy goal; target not checked yet" in out
    assert "drop 8.00 points > 1 allowed" in out and "not checked yet for Edge TPU" in out
    assert "python -m optimizer readiness" in out
    print_checks({})
    assert capsys.readouterr().out == ""
