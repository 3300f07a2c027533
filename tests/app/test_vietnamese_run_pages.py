"""AppTest in Vietnamese, the pages that read a run: Run, Results (its verdict, insights, goals,
table, charts and readiness), My runs, Graph, Recommendation's measured verdict, Search and
Per-layer -- every element's text holds no English UI words, and numbers take the decimal
comma. One hand-written finished run (no TensorFlow) serves every page of the module."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from app_helpers import new_app
from page_text import page_texts
from vietnamese_text import english_lines

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_runs import digits_rows, graph_ready_run  # noqa: E402

from optimizer import AccuracyGoal, Answers, Goals, SizeGoal  # noqa: E402

pytestmark = pytest.mark.cost(60)

ANSWERS = Answers(data="labelled", can_retrain=True, size_goal="4x", effort="thorough")
GOALS = Goals(accuracy=AccuracyGoal(max_drop=0.001), size=SizeGoal(max_ratio=0.5))


@pytest.fixture(scope="module")
def workspace_run() -> tuple[str, Path]:
    """One session's workspace holding one finished run with answers and goals (qat is the
    guide's pick; the accuracy budget is tight, so goals are missed and within noise too), its
    files real enough for the Graph page, and one failed variant."""
    rows = digits_rows()
    for row in rows:
        row.measured_on = "Intel Xeon, 2 logical cores, ai-edge-litert 1.4.0"  # host_description
    return graph_ready_run(rows=rows, answers=ANSWERS, goals=GOALS)


def _page(owner: str, folder: Path, script: str):
    at = new_app(session_id=owner, run_dir=str(folder), answers=ANSWERS,
                 situation_confirmed=True)
    at.query_params["lang"] = "vi"
    at.run()
    return at.switch_page(script).run()


def _assert_vietnamese(at) -> list[str]:
    assert not at.exception, at.exception
    texts = page_texts(at)
    left = english_lines(texts)
    assert left == [], "English left on the page:\n" + "\n".join(left)
    return texts


@pytest.mark.parametrize("script", ["pages/run.py", "pages/results.py", "pages/my_runs.py",
                                    "pages/graph.py", "pages/recommendation.py",
                                    "pages/search.py", "pages/layers.py"])
def test_a_run_page_in_vietnamese_has_no_english_ui_words(workspace_run, script):
    owner, folder = workspace_run
    _assert_vietnamese(_page(owner, folder, script))


def test_the_results_page_in_vietnamese_writes_numbers_with_a_decimal_comma(workspace_run):
    owner, folder = workspace_run
    texts = "\n".join(_assert_vietnamese(_page(owner, folder, "pages/results.py")))
    assert "97,778" in texts and "97.778" not in texts      # qat's accuracy, as the table says
    assert "1,20 µs" in texts and "1.20 µs" not in texts    # integer's median latency


@pytest.fixture(scope="module")
def search_folder(tmp_path_factory):
    """A finished search written by hand (test_layers_precision's): its sensitivity report, a
    mixed-precision plan as the best trial, and its explanation kept as a message."""
    import json

    from test_layers_precision import _search

    from optimizer.text import figure, msg

    folder = _search(tmp_path_factory.mktemp("vi-search"), "cpu")
    doc = json.loads((folder / "outcome.json").read_text())
    explanation = msg("{technique} wins: the smallest file that meets every goal ({size} "
                      "{where}{ratio}). {details}.", technique="mixed[plan-1]",
                      size=figure(60_080, "size"), where=msg("on disk"), ratio="",
                      details=msg("it is the float model itself"))
    doc.update(explanation=str(explanation), explanation_data=explanation.to_dict())
    (folder / "outcome.json").write_text(json.dumps(doc))
    return folder


@pytest.mark.parametrize("script", ["pages/search.py", "pages/layers.py"])
def test_a_search_page_in_vietnamese_has_no_english_ui_words(search_folder, script):
    at = new_app(search_dir=str(search_folder))
    at.query_params["lang"] = "vi"
    at.run()
    texts = "\n".join(_assert_vietnamese(at.switch_page(script).run()))
    if script == "pages/layers.py":
        assert "+8,70 điểm" in texts and "1,60 µs" in texts     # the measured costs
    else:
        assert "mixed[plan-1] thắng" in texts
