"""AppTest: the Search page starts a real search and shows its verdict; the Per-layer repair
page shows which layers stayed float and starts a repair by hand."""
from __future__ import annotations

import json
import time

import pytest
from app_helpers import RUN_DEADLINE_S, button, goto, new_app
from chart_labels import check_labels_on_their_points

pytestmark = pytest.mark.cost(80)


def _texts(at) -> str:
    parts = [e.value for kind in ("markdown", "success", "warning", "info", "error", "caption")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def _wait(run_dir) -> None:
    from optimizer.search.background import read_search

    deadline = time.time() + RUN_DEADLINE_S
    while not read_search(run_dir).done and time.time() < deadline:
        time.sleep(2)
    assert read_search(run_dir).done


def test_search_page_offers_the_form_before_any_search():
    at = goto(new_app(), "pages/search.py")
    assert not at.exception, at.exception
    assert at.title[0].value == "Search my goals"
    assert at.radio(key="s_target").value == "cpu"
    assert at.number_input(key="s_drop").value == 1.0
    assert [b.label for b in at.button] == ["Start the search"]
    assert "No search yet" in _texts(at)


def test_layers_page_without_a_search_points_to_it():
    at = goto(new_app(), "pages/layers.py")
    assert not at.exception and at.title[0].value == "Per-layer repair"
    assert "Run a search first" in _texts(at)
    assert button(at, "Go to the search")


def test_bad_goals_are_a_message_not_a_search():
    at = goto(new_app(), "pages/search.py")
    at.selectbox(key="s_size_kind").set_value("ratio")
    at.number_input(key="s_size_value").set_value(0.5)
    button(at, "Start the search").click().run()
    assert not at.exception
    assert "above 1" in "\n".join(e.value for e in at.error)
    assert at.session_state["search_dir"] is None


@pytest.mark.slow          # a real search of the digits-outliers demo (a few minutes)
def test_a_search_repairs_int8_and_the_repair_page_offers_int16_and_float():
    """The search page's search repairs int8 with the sensitivity-first precision search; the
    repair page shows each layer's measured cost at int16 and float, measures a plan chosen by
    hand, then the per-layer int8 error and a layer kept in float by hand.

    Deterministic on a loaded machine: the post-training conversions only (a fixed set of
    trials: one conversion job, the sensitivity pass, the plans) under the longest budget,
    which nothing here comes near, so no trial depends on how fast the machine is."""
    at = goto(new_app(session_id="apptest-search", model_ref="digits-outliers"),
              "pages/search.py")
    at.slider(key="s_minutes").set_value(30)
    at.radio(key="s_scope").set_value("post-training")
    button(at, "Start the search").click().run()
    assert not at.exception, at.exception
    run_dir = at.session_state["search_dir"]
    assert run_dir and "apptest-search" in run_dir
    _wait(run_dir)
    at.run()
    assert not at.exception, at.exception
    verdict = "\n".join(e.value for e in at.success).replace("\\", "")   # Markdown escapes
    assert "wins: the smallest file that meets every goal" in verdict
    assert "Target **cpu**" in _texts(at)
    assert len(at.get("plotly_chart")) == 2          # the front and the latency chart
    for chart in at.get("plotly_chart"):             # each label on the trials it names
        assert check_labels_on_their_points(json.loads(chart.proto.spec)) == []
    table = next(d.value for d in at.dataframe if "Trial" in d.value.columns)
    assert "mixed[plan-1]" in list(table["Trial"])
    assert not any(t.startswith(("pruning", "clustering", "qat")) for t in table["Trial"])
    from optimizer.search.background import read_search

    done = read_search(run_dir).outcome
    assert done.status == "finished" and done.stopped is None     # never cut by the clock
    assert "★" in list(table["Best"])

    at.switch_page("pages/layers.py").run()
    assert not at.exception, at.exception
    costs = next(d.value for d in at.dataframe if "Layer" in d.value.columns)
    assert list(costs["Layer"])[:2] == ["normalize", "dense"]
    assert {"int16: gain", "int16: size", "float: gain", "float: latency"} <= set(costs.columns)
    assert "Measured on the first 1000 training samples" in _texts(at)
    before = {t.technique for t in read_search(run_dir).outcome.trials}
    button(at, "Measure this plan").click().run()   # the default: the search's own plan
    assert not at.exception, at.exception
    _wait(run_dir)
    at.run()
    after = {t.technique: t for t in read_search(run_dir).outcome.trials}
    added = set(after) - before
    assert added == {"mixed[hand-1]"} and after["mixed[hand-1]"].status == "ok"
    assert after["mixed[hand-1]"].layer_precision["normalize"] in ("int16", "float")

    button(at, "Measure the per-layer int8 error").click().run()
    assert not at.exception, at.exception
    _wait(run_dir)
    at.run()
    picked = at.multiselect(key="layers_pick")
    assert [label.split(" ")[0] for label in picked.options][:1] == ["normalize"]  # worst
    button(at, "Keep these in float and measure").click().run()
    assert not at.exception, at.exception
    _wait(run_dir)
    at.run()
    selector = at.selectbox(key="layers_report")
    assert any("kept in float by hand" in label for label in selector.options)
    assert "kept in float by hand" in selector.options[selector.index]   # the new report shown
