"""The run's verdict and the hand-over report in Vietnamese (issue 24): ``report RUN --lang vi``
writes the report in Vietnamese with a decimal comma while the command's output stays English;
insights, goal verdicts and the run's summary are data written in the reader's language, and
what a run records (its JSON, the CSV) stays English whatever language asked for it."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from fake_runs import digits_rows, write_run
from vietnamese_text import english_lines

from optimizer import AccuracyGoal, Answers, Goals, LatencyGoal, SizeGoal, numbers, results_frame
from optimizer.report import run_verdict
from optimizer.report.downloads import results_csv
from optimizer.text import render, use_language

ANSWERS = Answers(data="labelled", can_retrain=True, size_goal="4x", effort="thorough")
#: tight goals: every state (met, missed, within noise) and most insight kinds appear
GOALS = Goals(accuracy=AccuracyGoal(max_drop=0.001), size=SizeGoal(max_ratio=0.5),
              latency=LatencyGoal(max_ms=0.0025))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    rows = digits_rows()
    for row in rows:
        row.measured_on = "Intel Xeon, 2 logical cores, ai-edge-litert 1.4.0"
    rows[2].latency_note = ("int8 ops left to builtin kernels, outside XNNPACK: HARD_SWISH x19; "
                            "the file fixes its batch at 3: each timed invoke() runs 3 samples")
    return write_run(tmp_path_factory.mktemp("vi-report") / "run-vi", rows, answers=ANSWERS,
                     goals=GOALS)


def _words(html: str) -> str:
    # commands and code are excepted like file names: they are typed as they are
    text = re.sub(r"<script.*?</script>|<style.*?</style>|<pre>.*?</pre>|<code>.*?</code>", " ",
                  html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)


def test_report_lang_vi_writes_the_report_in_vietnamese(run_dir, tmp_path):
    out = tmp_path / "bao-cao.html"
    done = subprocess.run([sys.executable, "-m", "optimizer", "report", str(run_dir), "--out",
                           str(out), "--lang", "vi"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote ")                      # the command stays English
    html = out.read_text(encoding="utf-8")
    assert "<html lang='vi'>" in html
    for heading in ("Mô hình", "Mục tiêu", "Đề xuất", "Kết quả", "Biểu đồ", "Nhận định",
                    "Cách đo", "Tái tạo"):
        assert f"<h2>{heading}</h2>" in html
    assert english_lines([_words(html)]) == []
    assert "97,778 % (96,0–98,8)" in html and "-0,444 (p = 0,50)" in html   # decimal comma
    assert "97.778" not in _words(html)
    english = subprocess.run([sys.executable, "-m", "optimizer", "report", str(run_dir),
                              "--out", str(tmp_path / "en.html")], capture_output=True, text=True,
                             timeout=120)
    assert english.returncode == 0 and "<h2>Results</h2>" in (tmp_path / "en.html").read_text()


def test_insights_and_goal_verdicts_are_data_written_in_the_readers_language(run_dir):
    with use_language("vi"):          # judged where a Vietnamese page judges it
        verdict = run_verdict(run_dir)
        shown = [n.text for n in verdict.insights]
        details = [render(i.detail) for c in verdict.checks.values() for i in c.items]
        summaries = [render(c.summary) for c in verdict.checks.values()]
        judged = render(verdict.judged_by())
    kinds = {n.kind for n in verdict.insights}
    assert {"guide_contradicted", "within_noise", "slower", "not_meaningful", "faster",
            "goal_missed", "latency_note", "measured_on"} <= kinds
    assert {c.state.value for c in verdict.checks.values()} >= {"missed", "within_noise"}
    assert english_lines(shown + details + summaries + [judged]) == []
    assert any("0,444 điểm" in t for t in shown)                  # numbers in the sentence
    # the record stays English: what results.json and --json keep
    record = json.dumps(verdict.judgement(), ensure_ascii=False)
    assert not re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", record)
    assert "judged by the goals it was run with" in record
    assert all(n.message in record for n in verdict.insights)
    english = run_verdict(run_dir)
    assert [n.text for n in english.insights] == [n.message for n in verdict.insights]


def test_csv_and_json_stay_locale_free_in_a_vietnamese_page(run_dir):
    results = run_verdict(run_dir).results
    english = results_csv(results_frame(results))
    with use_language("vi"):
        assert numbers.metric_value(0.98222) == "98,2 %"
        assert results_csv(results_frame(results)) == english
    assert b"0.97" in english


def test_a_searchs_explanation_is_data_written_in_the_readers_language():
    """What the search process writes (search.json) keeps its explanation as a message: the
    Search page renders it in its reader's language; the text for programs stays English."""
    from search_helpers import FakeClock, ScriptedEvaluator, result

    from optimizer.search.candidates import plan_candidates
    from optimizer.search.explain import SearchOutcome
    from optimizer.search.loop import run_search
    from optimizer.search.request import SearchRequest

    table = {"float32": result("float32", 2_300_000, 0.9711, gzip=2_100_000),
             "float16": result("float16", 860_740, 0.9689, gzip=743_982),
             "dynamic_range": result("dynamic_range", 558_808, 0.9689, gzip=471_370)}
    for closest in (False, True):
        clock = FakeClock()
        request = SearchRequest(model="m", target="cpu", max_accuracy_drop=0.01,
                                time_budget_s=600, max_size_ratio=0.2 if closest else None)
        outcome = run_search(request, plan_candidates("cpu", "labelled"),
                             ScriptedEvaluator(table, clock, seconds={"post-training": 60}),
                             clock=clock)
        copy = SearchOutcome.from_dict(json.loads(json.dumps(outcome.to_dict())))
        english = str(copy.explanation)
        assert english == outcome.to_dict()["explanation"]
        assert english.startswith("No trial met every goal." if closest else "dynamic_range wins")
        shown = render(copy.explanation, "vi")
        assert english_lines([shown]) == [], shown
        if closest:
            assert "Gần nhất: dynamic_range" in shown and "kích thước nhỏ hơn 4,12x" in shown
        else:
            assert "dynamic_range thắng" in shown and "nhỏ hơn 4,12x so với 2,30 MB" in shown
    # what a target rules out (the hardware's words) keeps its data through search.json too
    plan = plan_candidates("edgetpu", "labelled")
    outcome = SearchOutcome(status="finished", trials=[], pareto=[], best=None, goal_met=False,
                            explanation="", excluded=list(plan.excluded))
    copy = SearchOutcome.from_dict(json.loads(json.dumps(outcome.to_dict())))
    assert copy.excluded and all(english_lines([render(why, "vi")]) == []
                                 for _, why in copy.excluded)


def test_a_searchs_skips_notes_and_whys_are_data_written_in_the_readers_language():
    """Why a candidate was not run, the search's notes and why each trial was chosen keep their
    message data through search.json (reason_data, notes_data, why_data): the Search page
    writes them in Vietnamese, with the reader's separators; the English text stays as it was,
    and an older file without the data still shows its English."""
    from search_helpers import FakeClock, ScriptedEvaluator, result

    from optimizer.report import skipped_table
    from optimizer.search.candidates import plan_candidates
    from optimizer.search.explain import SearchOutcome
    from optimizer.search.loop import run_search
    from optimizer.search.request import SearchRequest

    table = {"float32": result("float32", 2_300_000, 0.9711, gzip=2_100_000),
             "float16": result("float16", 860_740, 0.9689, gzip=743_982),
             "dynamic_range": result("dynamic_range", 558_808, 0.9689, gzip=471_370),
             "integer": result("integer", 600_000, 0.90, gzip=500_000)}
    clock = FakeClock()
    request = SearchRequest(model="m", target="cpu", max_accuracy_drop=0.01, time_budget_s=1500)
    outcome = run_search(request, plan_candidates("cpu", "labelled"),
                         ScriptedEvaluator(table, clock, seconds={"post-training": 1200}),
                         clock=clock)
    data = json.loads(json.dumps(outcome.to_dict()))
    assert [s["reason"] for s in data["skipped"]] == [str(s.reason) for s in outcome.skipped]
    assert data["notes"] == [str(n) for n in outcome.notes] and data["notes_data"][0]
    assert all(t["why_data"] for t in data["trials"])
    copy = SearchOutcome.from_dict(data)
    again = SearchOutcome(status="finished", trials=copy.trials, pareto=[], best=None,
                          goal_met=False, explanation="", skipped=copy.skipped,
                          notes=copy.notes, why=copy.why).to_dict()   # round-trips unchanged
    assert again["skipped"] == data["skipped"] and again["notes"] == data["notes"]
    assert again["notes_data"] == data["notes_data"] and again["trials"] == data["trials"]
    beaten = [s.reason for s in copy.skipped if s.reason.startswith("cannot beat")]
    assert beaten and "(measured 2.30 MB on disk)" in beaten[0]
    # the fake evaluator's own error text ("not scripted") is English data, not a message
    shown = [render(s.reason, "vi") for s in copy.skipped if "not scripted" not in s.reason]
    shown += [render(n, "vi").replace("'sensitivity'", "") for n in copy.notes]
    shown += [render(why, "vi") for why in copy.why.values()]
    assert english_lines(shown) == [], english_lines(shown)
    assert any("không thể thắng dynamic_range (559 kB trên đĩa): cắt tỉa theo độ lớn" in s
               and "(đo được 2,30 MB trên đĩa)" in s for s in shown), shown
    assert any(s.startswith("integer không đạt ngân sách độ chính xác") for s in shown)
    with use_language("vi"):
        rows = skipped_table(copy)
    assert rows[0]["Lý do không chạy"].startswith("không thể thắng"), rows[0]
    # the time budget's "not started" reason, with a figure in the reader's language
    clock = FakeClock()
    skipped = run_search(SearchRequest(model="m", target="cpu", max_accuracy_drop=0.01,
                                       time_budget_s=1300), plan_candidates("cpu", "labelled"),
                         ScriptedEvaluator({**table, "dynamic_range": result(
                             "dynamic_range", 558_808, 0.90)}, clock,
                             seconds={"post-training": 1200}), clock=clock).skipped
    late = [s.reason for s in skipped if s.reason.startswith("not started")]
    assert late, [str(s.reason) for s in skipped]
    again = SearchOutcome.from_dict(json.loads(json.dumps(SearchOutcome(
        status="stopped", trials=[], pareto=[], best=None, goal_met=False, explanation="",
        skipped=skipped).to_dict()))).skipped
    words = render(next(s.reason for s in again if s.reason.startswith("not started")), "vi")
    assert words.startswith("chưa bắt đầu") and english_lines([words]) == [], words
    assert "khoảng 1.198 s: khởi động 1.195 s" in words, words   # the reader's separators
    # an older search.json: English text only, shown as it is
    old = {**data, "notes_data": None,
           "skipped": [{k: v for k, v in s.items() if k != "reason_data"}
                       for s in data["skipped"]],
           "trials": [{k: v for k, v in t.items() if k != "why_data"} for t in data["trials"]]}
    older = SearchOutcome.from_dict(old)
    assert render(older.skipped[0].reason, "vi") == data["skipped"][0]["reason"]
    assert render(older.notes[0], "vi") == data["notes"][0]
    assert render(older.why["float32"], "vi") == data["trials"][0]["why"]
