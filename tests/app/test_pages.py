"""AppTest: every page renders, the questionnaire drives the recommendation, goals are built
from the form, and the Run page starts nothing until its button is pressed."""
from __future__ import annotations

import json

import pytest
from app_helpers import button, goto, new_app

from optimizer import AccuracyGoal, Answers, Goals, LatencyGoal, SizeGoal, TechniqueId

pytestmark = pytest.mark.cost(50)

PAGES = ["pages/model.py", "pages/situation.py", "pages/recommendation.py", "pages/run.py",
         "pages/results.py"]


def _texts(at) -> str:
    parts = [e.value for kind in ("markdown", "success", "warning", "info", "error", "caption")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.slow          # the model card converts the demo in a TensorFlow subprocess
def test_app_opens_on_the_model_page_with_the_demo_preselected():
    at = new_app().run()
    assert not at.exception
    assert at.title[0].value == "Model"
    assert at.radio(key="model_choice").value == "digits-cnn"
    assert at.session_state["model_ref"] == "digits-cnn"
    assert [b.label for b in at.button][-1] == "Next: your situation"
    labels = [m.label for m in at.metric]
    assert labels == ["Parameters", "Float32 size", "Input shape", "Classes", "Layers"]
    assert at.metric[0].value == "38,346" and at.metric[2].value == "8 × 8 × 1"
    at.radio(key="model_choice").set_value("waveforms-conv1d").run()
    assert at.session_state["model_ref"] == "waveforms-conv1d"


@pytest.mark.parametrize("script", PAGES[1:])
def test_every_page_renders_without_exception_and_offers_a_next_step(script):
    at = goto(new_app(), script)
    assert not at.exception, at.exception
    assert at.title[0].value in {"Your situation", "Recommendation", "Run", "Results"}
    assert len(at.button) >= 1          # no dead ends: something to press on every page


@pytest.mark.slow
def test_next_button_moves_from_model_to_situation():
    at = new_app().run()
    button(at, "Next: your situation").click().run()
    assert at.title[0].value == "Your situation"


def test_situation_defaults_are_the_demo_path():
    at = goto(new_app(), "pages/situation.py")
    assert at.radio(key="q_data").value == "labelled"
    assert at.checkbox(key="q_retrain").value is True
    assert at.radio(key="q_target").value == "cpu"
    assert at.radio(key="q_size").value == "4x"
    assert at.number_input(key="g_drop").value == 1.0
    assert "comes with labelled training data" in _texts(at)


def test_submitting_answers_shows_their_recommendation():
    at = goto(new_app(), "pages/situation.py")
    at.radio(key="q_data").set_value("none")
    at.radio(key="q_target").set_value("edgetpu")
    button(at, "See my recommendation").click().run()
    assert not at.exception
    assert at.title[0].value == "Recommendation"
    answers = at.session_state["answers"]
    assert answers.target.value == "edgetpu" and answers.data.value == "none"
    assert at.session_state["situation_confirmed"] is True
    text = _texts(at)
    assert "Nothing that runs on Edge TPU" in text
    assert "100-500 unlabelled representative samples" in text     # what would unlock it


def test_goal_inputs_become_goal_objects():
    at = goto(new_app(), "pages/situation.py")
    at.number_input(key="g_drop").set_value(2.0)
    at.radio(key="g_drop_mode").set_value("relative")
    at.selectbox(key="g_size_kind").set_value("ratio")
    at.number_input(key="g_size_value").set_value(4.0)
    at.checkbox(key="g_compressed").check()
    at.number_input(key="g_latency").set_value(0.5)
    button(at, "See my recommendation").click().run()
    goals = at.session_state["goals"]
    assert goals == Goals(accuracy=AccuracyGoal(max_drop=0.02, relative=True),
                          size=SizeGoal(max_ratio=0.25, compressed=True),
                          latency=LatencyGoal(max_ms=0.5))
    # the form shows the saved goals when the user comes back
    at = goto(at, "pages/situation.py")
    assert at.number_input(key="g_size_value").value == 4.0
    assert at.radio(key="g_drop_mode").value == "relative"


def test_an_impossible_goal_is_explained_and_not_saved():
    at = goto(new_app(), "pages/situation.py")
    at.selectbox(key="g_size_kind").set_value("ratio")
    at.number_input(key="g_size_value").set_value(0.5)
    button(at, "See my recommendation").click().run()
    assert at.title[0].value == "Your situation"            # stayed on the page
    assert at.error and "must be above 1" in at.error[0].value
    assert at.session_state["goals"].size is None


CASES = [
    # (answers, recommended spec, words in the success box)
    (Answers(data="labelled", effort="thorough"), "qat", "Quantization-aware training"),
    (Answers(data="labelled", effort="quick"), "dynamic_range", "dynamic range"),
    (Answers(data="none", size_goal="2x"), "float16", "float16"),
    (Answers(data="unlabelled", effort="thorough", accuracy="high"), "int16x8", "int16"),
    (Answers(data="unlabelled", effort="thorough", target="edgetpu"), "integer_only",
     "integer only"),
    (Answers(data="labelled", effort="thorough", target="mcu"), "qat+integer_only",
     "Quantization-aware"),
    (Answers(optimize=False), "float32", "Float32"),
]


@pytest.mark.parametrize("answers,spec,words", CASES)
def test_recommendation_page_for_answer_sets(answers, spec, words):
    at = goto(new_app(answers=answers, situation_confirmed=True), "pages/recommendation.py")
    assert not at.exception, at.exception
    assert at.success and words.lower() in at.success[0].value.lower()
    assert f"`{spec}`" in at.success[0].value
    picked = at.multiselect(key="rec_specs").value
    if spec != "float32":
        assert picked[0] == spec                      # the recommendation is preselected
    tree = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len([s for s in tree["layout"]["shapes"] if s["type"] == "path"]) == 12
    # every other technique says why it was not chosen
    table = next(m.value for m in at.markdown if m.value.startswith("| Technique | What it is"))
    others = [t for t in TechniqueId if t.value != spec.split("+")[0]]
    assert all(f"`{t.value}`" in table for t in others)


def test_hardware_override_is_explained():
    answers = Answers(data="unlabelled", effort="thorough", accuracy="high", target="gpu-android")
    at = goto(new_app(answers=answers, situation_confirmed=True), "pages/recommendation.py")
    assert "The hardware changed the tree's answer" in _texts(at)
    assert "`integer`" in at.success[0].value


def test_picked_techniques_carry_over_to_the_run_page():
    at = goto(new_app(), "pages/recommendation.py")
    at.multiselect(key="rec_specs").set_value(["float16", "pruning+integer"]).run()
    assert at.session_state["run_specs"] == ["float16", "pruning+integer"]
    at = goto(at, "pages/run.py")
    assert "`float16`, `pruning+integer`" in _texts(at)
    assert at.session_state["run_dir"] is None          # nothing starts without the button
    assert [b.label for b in at.button][0] == "Start the run"


def test_results_page_without_runs_points_to_the_run_page():
    at = goto(new_app(), "pages/results.py")
    assert "No results yet" in _texts(at)
    button(at, "Go to the Run page").click().run()
    assert at.title[0].value == "Run"
