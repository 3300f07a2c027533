"""Insights from measured values (optimizer.report.insights) and the number formats they use.

The rows are hand-built test data shaped like the digits-cnn runs the issue reported (QAT
losing more than dynamic range, equal latencies); they are never shown as measurements.
"""
from __future__ import annotations

import json

import pytest

from optimizer import AccuracyGoal, Answers, Goals, Result, RunRequest, SizeGoal
from optimizer.artifacts import store
from optimizer.report import insights, numbers


def _r(technique, size, acc, median, p10, p90, **kw):
    return Result(technique=technique, model="digits-cnn", size_bytes=size, gzip_bytes=size - 9,
                  accuracy=acc, latency_ms_median=median, latency_ms_p10=p10,
                  latency_ms_p90=p90, latency_threads=1, latency_kernels="XNNPACK",
                  measured_on="test host", **kw)


@pytest.fixture()
def rows():
    rows = [
        _r("float32", 100_000, 0.9822, 0.0020, 0.0019, 0.0021),
        _r("qat", 31_000, 0.9778, 0.0030, 0.0029, 0.0032),        # lost 0.44 points, slower
        _r("float16", 52_000, 0.9822, 0.0020, 0.0019, 0.0022),    # same interval: no claim
        _r("dynamic_range", 27_000, 0.9822, 0.0020, 0.0018, 0.0021),
        _r("integer", 29_000, 0.9800, 0.0012, 0.0011, 0.0013),    # lost 0.22, faster
    ]
    for r in rows:
        r.accuracy_delta = r.accuracy - rows[0].accuracy
    return rows


def _kinds(notes, technique=None):
    return [n.kind for n in notes if technique is None or n.technique == technique]


def test_numbers_three_significant_figures_and_microseconds():
    assert numbers.ms(0.002) == "2.00 µs" and numbers.ms(0.412) == "0.412 ms"
    assert numbers.ms(1130.4) == "1,130 ms" and numbers.ms(None) == "–"
    assert numbers.ms_range(0.487, 4.686) == "0.487–4.69 ms"
    assert numbers.sig(9.995) in ("9.99", "10.0") and numbers.sig(0.0009996) == "0.00100"
    assert numbers.points(-0.00444) == "-0.444 points" and numbers.points(0.0) == "0 points"
    assert numbers.size(639_700) == "640 kB" and numbers.size(16_900_000) == "16.9 MB"


def test_qat_losing_more_than_post_training_contradicts_the_guide(rows):
    notes = insights.run_insights(rows)
    contra = [n for n in notes if n.kind == "guide_contradicted"]
    assert len(contra) == 1 and contra[0].technique == "qat"
    assert contra[0].versus == "dynamic_range"     # float16 ties on accuracy but is bigger
    assert "-0.440 points" in contra[0].message and "0 points" in contra[0].message


def test_no_contradiction_when_qat_loses_least(rows):
    rows[1].accuracy_delta = 0.001
    assert "guide_contradicted" not in _kinds(insights.run_insights(rows))


def test_faster_slower_only_when_intervals_do_not_overlap(rows):
    notes = insights.run_insights(rows)
    assert _kinds(notes, "qat").count("slower") == 1
    assert "faster" in _kinds(notes, "integer")
    for tech in ("float16", "dynamic_range"):
        kinds = _kinds(notes, tech)
        assert "not_meaningful" in kinds and not {"faster", "slower"} & set(kinds)
    overlap = next(n for n in notes if n.kind == "not_meaningful" and n.technique == "float16")
    assert "1.90–2.20 µs" in overlap.message and "1.90–2.10 µs" in overlap.message
    assert all(n.versus == "float32" for n in notes if n.kind in ("faster", "slower"))


def test_recommendation_and_goals_name_the_favoured_variant(rows):
    answers = Answers(data="labelled", can_retrain=True, size_goal="4x", effort="thorough")
    goals = Goals(accuracy=AccuracyGoal(max_drop=0.003), size=SizeGoal(max_ratio=0.3))
    notes = insights.run_insights(rows, answers, goals)
    contra = [n for n in notes if n.kind == "guide_contradicted"]
    assert [n.versus for n in contra] == ["dynamic_range", "dynamic_range"]
    assert "lost more accuracy" in contra[0].message and "is smaller" in contra[1].message
    assert "31.0 kB vs 27.0 kB" in contra[1].message
    assert all("recommended qat" in n.message for n in contra)
    assert any("favour dynamic_range" in n.message for n in contra)
    missed = [n for n in notes if n.kind == "goal_missed"]
    assert [m.message.split(" goal")[0][-8:] for m in missed] == ["accuracy", "our size"]
    assert "float16, dynamic_range, integer meet it" in missed[0].message  # 0.3-point budget
    assert "dynamic_range, integer meet it" in missed[1].message              # 30% of float32
    agreed, against = insights.agreement(notes, "qat")
    assert not agreed and len(against) == 4


def test_silent_without_measurements():
    rows = [Result(technique="float32", size_bytes=100, gzip_bytes=90, accuracy=0.9),
            Result(technique="integer", size_bytes=30, gzip_bytes=25, accuracy=0.9)]
    assert insights.run_insights(rows) == []


def test_failed_and_round_trip_through_json(rows, tmp_path):
    rows.append(Result.failed("pruning", "needs labels; upload y_train", model="digits-cnn"))
    notes = insights.run_insights(rows)
    assert "failed" in _kinds(notes, "pruning")
    store.write_results(tmp_path, "digits-cnn", rows)
    computed = insights.stored_insights(tmp_path)      # no "insights" key: computed
    assert computed == notes
    store.add_to_results(tmp_path / store.RESULTS, insights=[n.to_dict() for n in notes[:2]])
    doc = json.loads((tmp_path / store.RESULTS).read_text())
    assert {"kind", "technique", "message"} <= set(doc["insights"][0])
    assert insights.stored_insights(tmp_path) == notes[:2]


def test_the_request_file_drives_the_recommendation(rows, tmp_path):
    store.write_results(tmp_path, "digits-cnn", rows)
    answers = Answers(data="labelled", size_goal="4x", effort="thorough")
    request = RunRequest.from_goals(Goals(accuracy=AccuracyGoal(max_drop=0.01)), "cpu",
                                    model="digits-cnn", answers=answers)
    store.write_json_atomic(tmp_path / store.REQUEST, request.to_dict())
    assert insights.context_of(tmp_path) == (answers, Goals(accuracy=AccuracyGoal(0.01)))
    got = insights.stored_insights(tmp_path)
    assert any(n.kind == "guide_contradicted" and "recommended qat" in n.message for n in got)


def test_an_older_runs_context_file_is_still_read(rows, tmp_path):
    store.write_results(tmp_path, "digits-cnn", rows)
    store.write_json_atomic(tmp_path / store.REQUEST, RunRequest(model="digits-cnn").to_dict())
    answers = Answers(data="labelled", size_goal="4x", effort="thorough")
    goals = Goals(accuracy=AccuracyGoal(max_drop=0.01))
    store.write_json_atomic(tmp_path / store.CONTEXT, {"answers": answers.to_dict(),
                                                       "goals": goals.to_dict()})
    assert insights.context_of(tmp_path) == (answers, goals)
    got = insights.stored_insights(tmp_path)
    assert any(n.kind == "guide_contradicted" and "recommended qat" in n.message for n in got)


def test_the_goals_direction_is_the_metrics(tmp_path):
    rmse = Result(technique="float32", accuracy=0.5, metric="rmse", higher_is_better=False)
    store.write_results(tmp_path, "m", [rmse])
    request = RunRequest(model="m", max_accuracy_drop=0.1)
    store.write_json_atomic(tmp_path / store.REQUEST, request.to_dict())
    _, goals = insights.context_of(tmp_path)
    assert goals.accuracy == AccuracyGoal(0.1, higher_is_better=False)
    assert insights.context_of(tmp_path, [Result(technique="float32", accuracy=0.9)])[1] \
        .accuracy.higher_is_better is True


def test_only_post_training_variants_are_weighed_against_qat(rows):
    # QAT beats every post-training variant; a pruned float model or another retraining
    # technique doing better is not what the guide's table claims about QAT
    rows[1].accuracy_delta = 0.001
    rows.append(_r("pruning", 100_000, 0.99, 0.002, 0.0019, 0.0021, accuracy_delta=0.008))
    rows.append(_r("cqat", 30_000, 0.99, 0.002, 0.0019, 0.0021, accuracy_delta=0.008))
    notes = insights.run_insights(rows)
    assert ("guide_contradicted", "qat") not in {(n.kind, n.technique) for n in notes}
