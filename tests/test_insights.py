"""Insights from measured values (optimizer.report.insights / verdict): accuracy claims only
from the paired test, sizes on the named basis with each number after its name, latency claims
only on one node, and the one verdict (best, agreement) every surface shows.

The rows are hand-built test data shaped like the digits-cnn runs the issue reported (QAT
losing 2 samples of 450 more than dynamic range, equal latencies), each with per-sample
predictions kept in a folder as a run keeps them; they are never shown as measurements.
"""
from __future__ import annotations

import json

import pytest
from fake_runs import attach_predictions, digits_rows, write_run

from optimizer import AccuracyGoal, Answers, Goals, Result, RunRequest, SizeGoal, TargetGoal
from optimizer.artifacts import store
from optimizer.report import insights, verdict

ANSWERS = Answers(data="labelled", can_retrain=True, size_goal="4x", effort="thorough")


@pytest.fixture()
def rows(tmp_path):
    return attach_predictions(digits_rows(), tmp_path)


def _kinds(notes, technique=None):
    return [n.kind for n in notes if technique is None or n.technique == technique]


def test_one_sample_of_450_is_within_noise_never_a_contradiction(tmp_path):
    rows = attach_predictions(digits_rows(), tmp_path, {"float32": 8, "qat": 9,
                                                        "float16": 8, "dynamic_range": 8,
                                                        "integer": 8})
    notes = insights.run_insights(rows)
    assert "guide_contradicted" not in _kinds(notes)
    noise = next(n for n in notes if n.kind == "within_noise")
    assert noise.technique == "qat" and noise.params["p_value"] == pytest.approx(1.0)
    assert "1 of 450 test samples differ" in noise.message and "no measurable" in noise.message


def test_a_large_difference_contradicts_the_guide_with_its_p_value(tmp_path):
    rows = attach_predictions(digits_rows(), tmp_path, {"float32": 8, "qat": 30,
                                                        "float16": 8, "dynamic_range": 8,
                                                        "integer": 9})
    notes = insights.run_insights(rows)
    contra = [n for n in notes if n.kind == "guide_contradicted"]
    assert len(contra) == 1 and contra[0].technique == "qat"
    assert contra[0].versus == "dynamic_range"     # float16 ties on accuracy but is bigger
    assert contra[0].p_value < 0.05 and contra[0].params["worse"] == 22
    assert "qat -4.89 points vs dynamic_range 0 points" in contra[0].message
    assert "22 of 450 test samples differ, p < 0.001" in contra[0].message


def test_no_claim_without_kept_predictions():
    rows = digits_rows()                           # an older run: plain deltas, no files
    rows[1].accuracy_delta = -0.05
    notes = insights.run_insights(rows)
    assert "guide_contradicted" not in _kinds(notes)
    assert "not testable" in next(n.message for n in notes if n.kind == "within_noise")


def test_faster_slower_only_when_intervals_do_not_overlap(rows):
    notes = insights.run_insights(rows)
    assert _kinds(notes, "qat").count("slower") == 1
    assert "faster" in _kinds(notes, "integer")
    for tech in ("float16", "dynamic_range"):
        kinds = _kinds(notes, tech)
        assert "not_meaningful" in kinds and not {"faster", "slower"} & set(kinds)
    overlap = next(n for n in notes if n.kind == "not_meaningful" and n.technique == "float16")
    assert "float16 2.00 µs (p10–p90 1.90–2.20 µs) vs float32 2.00 µs (p10–p90 1.90–2.10 µs)" \
        in overlap.message
    assert all(n.versus == "float32" for n in notes if n.kind in ("faster", "slower"))


def test_no_faster_or_slower_across_nodes(rows):
    for r, node in zip(rows, ("a", "b", "a", "a", "b")):
        r.node = node
    notes = insights.run_insights(rows)
    assert "mixed_nodes" in _kinds(notes)
    assert not {"faster", "slower"} & set(_kinds(notes, "integer"))   # timed on b, float32 on a
    assert "not_meaningful" in _kinds(notes, "float16")               # same node: compared


def test_size_sentences_follow_the_basis_with_each_number_after_its_name(tmp_path):
    rows = digits_rows()
    rows[1].size_bytes, rows[1].gzip_bytes = 25_800, 20_100        # qat: bigger on disk ...
    rows[3].size_bytes, rows[3].gzip_bytes = 22_900, 21_000        # ... smaller gzipped
    attach_predictions(rows, tmp_path)
    raw = [n for n in insights.run_insights(rows, ANSWERS, size="raw")
           if n.kind == "guide_contradicted"]
    assert raw[0].message.endswith("dynamic_range is smaller on disk: dynamic_range 22.9 kB vs "
                                   "qat 25.8 kB.")
    gz = [n for n in insights.run_insights(rows, ANSWERS, size="gzip")
          if n.kind == "guide_contradicted"]
    assert gz == []                                  # gzipped, qat is the smaller one


def test_goals_missed_within_noise_and_not_checked(tmp_path):
    rows = attach_predictions(digits_rows(), tmp_path)       # qat: -0.444 points, 2 samples
    goals = Goals(accuracy=AccuracyGoal(max_drop=0.003), size=SizeGoal(max_ratio=0.3),
                  target=TargetGoal("cpu"))
    notes = insights.run_insights(rows, ANSWERS, goals)
    noise = next(n for n in notes if n.kind == "within_noise" and n.params["about"] == "budget")
    assert "within noise" in noise.message and "2 of 450 test samples differ" in noise.message
    missed = [n for n in notes if n.kind == "goal_missed"]
    assert [m.params["goal"] for m in missed] == ["size"]            # 31 kB of 100 kB > 30 %
    assert missed[0].params["meeting"] == ["dynamic_range", "integer"]
    assert "dynamic_range, integer meet it" in missed[0].message
    assert [n.params["goal"] for n in notes if n.kind == "goal_not_checked"] == ["target"]


def test_the_verdict_best_and_agreement(tmp_path):
    rows = attach_predictions(digits_rows(), tmp_path)
    goals = Goals(accuracy=AccuracyGoal(max_drop=0.01))
    v = verdict.evaluate_run(rows, ANSWERS, goals)
    assert v.best.technique == "dynamic_range" and v.best.basis == "raw"
    best = next(n for n in v.insights if n.kind == "best")
    assert "dynamic_range 27.0 kB vs float32 100 kB (3.70x smaller on disk)" in best.message
    assert v.agreement == "disagreed"                 # qat is larger than dynamic_range
    assert [n.kind for n in v.against] == ["guide_contradicted"]
    gz = verdict.evaluate_run(rows, ANSWERS, Goals(accuracy=AccuracyGoal(0.01),
                                                   size=SizeGoal(max_ratio=0.5,
                                                                 compressed=True)))
    assert gz.best.basis == "gzip" and gz.best.row()["basis"] == "gzip"
    assert verdict.best_label(gz.best.row()) == "dynamic_range, 3.70x smaller gzipped " \
                                                "(download size)"


def test_agreement_needs_a_measured_and_compared_recommendation(tmp_path):
    rows = attach_predictions(digits_rows(), tmp_path)
    rows[1] = Result.failed("qat", "needs labels")
    v = verdict.evaluate_run(rows, ANSWERS, Goals(accuracy=AccuracyGoal(0.01)))
    assert v.agreement == "not_measured"
    fresh = attach_predictions(digits_rows(), tmp_path)
    only = verdict.evaluate_run(fresh[:2], ANSWERS, Goals(accuracy=AccuracyGoal(0.01),
                                                          target=TargetGoal("cpu")))
    assert only.agreement == "pending"                # readiness not checked yet
    assert verdict.evaluate_run(fresh[:2], ANSWERS).agreement == "agreed"   # vs its goal


def test_readiness_changes_every_state_at_once(tmp_path):
    rows = attach_predictions(digits_rows(), tmp_path)
    goals = Goals(accuracy=AccuracyGoal(0.01), target=TargetGoal("mcu"))
    before = verdict.evaluate_run(rows, Answers(data="labelled", target="mcu"), goals)
    assert before.counts["not_checked"] == 4 and before.counts["missed"] == 0
    assert next(n for n in before.insights if n.kind == "none_meets").params["not_checked"] == 4
    for r in rows:
        r.readiness = {"target": "mcu", "method": "interpreted", "ready": True,
                       "summary": "Ready: runs in TFLite Micro"}
    after = verdict.evaluate_run(rows, Answers(data="labelled", target="mcu"), goals)
    assert after.counts["met"] == 4 and after.best is not None
    assert not [n for n in after.insights if n.kind in ("none_meets", "goal_not_checked")]


def test_silent_without_measurements():
    rows = [Result(technique="float32", size_bytes=100, gzip_bytes=90, accuracy=0.9),
            Result(technique="integer", size_bytes=30, gzip_bytes=25, accuracy=0.9)]
    assert insights.run_insights(rows) == []


def test_failed_and_round_trip_through_json(rows, tmp_path):
    rows.append(Result.failed("pruning", "needs labels; upload y_train", model="digits-cnn"))
    store.write_results(tmp_path, "digits-cnn", rows)
    computed = verdict.stored_insights(tmp_path)      # no "insights" key: computed
    assert "failed" in _kinds(computed, "pruning")
    store.add_to_results(tmp_path / store.RESULTS,
                         insights=[n.to_dict() for n in computed[:2]])
    doc = json.loads((tmp_path / store.RESULTS).read_text())
    assert {"kind", "technique", "message", "params"} <= set(doc["insights"][0])
    assert verdict.stored_insights(tmp_path) == computed[:2]
    old = {"kind": "faster", "technique": "x", "message": "as stored"}   # no params: kept
    assert insights.insights_from_json([old])[0].text == "as stored"


def test_every_kind_has_a_sentence():
    from optimizer.report.insight_text import RENDERERS

    assert set(insights.KINDS) == set(RENDERERS)
    with pytest.raises(ValueError, match="unknown insight kind"):
        insights.make("favours", None, {"technique": "x"})


def test_the_request_file_drives_the_recommendation(tmp_path):
    run = write_run(tmp_path / "run", answers=ANSWERS,
                    goals=Goals(accuracy=AccuracyGoal(max_drop=0.01)))
    assert verdict.context_of(run) == (ANSWERS, Goals(accuracy=AccuracyGoal(0.01)))
    got = verdict.run_verdict(run)
    assert got.recommended == "qat" and got.goals_from == "run"
    assert got.judged_by() == ("judged by the goals it was run with: accuracy at most 1 point "
                               "below float32")
    other = verdict.run_verdict(run, goals=Goals(accuracy=AccuracyGoal(0.001)))
    assert other.goals_from == "other" and "the goals you are trying" in other.judged_by()
    assert verdict.context_of(run)[1] == Goals(accuracy=AccuracyGoal(0.01))  # unchanged


def test_an_older_runs_context_file_is_still_read(rows, tmp_path):
    store.write_results(tmp_path, "digits-cnn", rows)
    store.write_json_atomic(tmp_path / store.REQUEST, RunRequest(model="digits-cnn").to_dict())
    goals = Goals(accuracy=AccuracyGoal(max_drop=0.01))
    store.write_json_atomic(tmp_path / store.CONTEXT, {"answers": ANSWERS.to_dict(),
                                                       "goals": goals.to_dict()})
    assert verdict.context_of(tmp_path) == (ANSWERS, goals)
    got = verdict.stored_insights(tmp_path)
    assert any(n.kind == "guide_contradicted" and "recommended qat" in n.message for n in got)


def test_the_goals_direction_is_the_metrics(tmp_path):
    rmse = Result(technique="float32", accuracy=0.5, metric="rmse", higher_is_better=False)
    store.write_results(tmp_path, "m", [rmse])
    request = RunRequest(model="m", max_accuracy_drop=0.1)
    store.write_json_atomic(tmp_path / store.REQUEST, request.to_dict())
    _, goals = verdict.context_of(tmp_path)
    assert goals.accuracy == AccuracyGoal(0.1, higher_is_better=False)
    assert verdict.context_of(tmp_path, [Result(technique="float32", accuracy=0.9)])[1] \
        .accuracy.higher_is_better is True


def test_only_post_training_variants_are_weighed_against_qat(tmp_path):
    # QAT beats every post-training variant; a pruned float model or another retraining
    # technique doing better is not what the guide's table claims about QAT
    rows = digits_rows()
    rows.append(Result(technique="pruning", accuracy=0.99, size_bytes=100_000))
    rows.append(Result(technique="cqat", accuracy=0.99, size_bytes=30_000))
    attach_predictions(rows, tmp_path, {"float32": 8, "qat": 7, "float16": 8,
                                        "dynamic_range": 8, "integer": 9, "pruning": 0,
                                        "cqat": 0})
    notes = insights.run_insights(rows)
    assert ("guide_contradicted", "qat") not in {(n.kind, n.technique) for n in notes}
    assert ("within_noise", "qat") not in {(n.kind, n.technique) for n in notes}


def test_every_figure_in_an_insight_is_its_results_own_in_the_named_order(tmp_path):
    from insight_numbers import check

    rows = digits_rows()
    rows[1].gzip_bytes = 20_100            # qat: bigger than dynamic_range on disk, not gzipped
    rows.append(Result(technique="pruning", accuracy=442 / 450, size_bytes=100_400,
                       gzip_bytes=61_000, sparsity=0.5, latency_ms_median=0.0021,
                       latency_ms_p10=0.0019, latency_ms_p90=0.0022))
    attach_predictions(rows, tmp_path)
    for size in ("raw", "gzip"):
        v = verdict.evaluate_run(rows, ANSWERS, Goals(accuracy=AccuracyGoal(0.01)), size=size)
        kinds = {n.kind for n in v.insights}
        assert {"faster", "slower", "not_meaningful", "within_noise", "compressed_only",
                "best"} <= kinds
        assert ("guide_contradicted" in kinds) == (size == "raw")
        assert check(v.insights, rows) >= 14
