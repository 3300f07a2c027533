"""Step 2 · Your situation: the guide's questions in plain words, and the goals to judge by."""
import streamlit as st

from optimizer import Answers, get_demo
from optimizer.text import tr
from pages.common import layout, nav, state
from pages.common import questions as q

layout.header(nav.SITUATION, tr("The guide's decision tree asks a few questions. Answer them "
                                "for your project; your goals are used later to judge every "
                                "result."))

answers, goals = state.answers(), state.goals()
saved = q.goal_form_defaults(goals, answers.target)
model = state.get(state.MODEL)
try:
    demo = get_demo(model)
except ValueError:
    demo = None


def radio(label, options: dict, current, key, help_text=None, horizontal=False):
    """A radio over {value: label} that starts at the saved value."""
    values = list(options)
    return st.radio(label, values, index=values.index(current) if current in values else 0,
                    format_func=q.label(options), key=key, help=help_text,
                    horizontal=horizontal)


with st.form("situation"):
    left, right = st.columns([3, 2], gap="large")
    with left:
        layout.section(tr("Your model and hardware"))
        optimize = radio(tr("Do you want to optimize the model?"), q.OPTIMIZE, answers.optimize,
                         "q_optimize", tr("The tree's first question. 'Just convert' gives the "
                                          "float32 baseline only."))
        data = radio(tr("What data do you have?"), q.DATA, q.value_of(answers.data), "q_data",
                     tr("Integer quantization calibrates on 100-500 representative inputs; "
                        "retraining (QAT, pruning, clustering) needs labelled data."))
        if demo is not None:
            st.caption(tr("{demo} comes with labelled training data, so that is preselected. "
                          "Choose less to see what the guide recommends then; results are "
                          "always measured on the demo's own test split.", demo=demo.name))
        can_retrain = st.checkbox(tr("I can afford to retrain (fine-tune) the model"),
                                  value=answers.can_retrain, key="q_retrain",
                                  help=tr("Only counts with labelled data. Fine-tuning takes "
                                          "seconds on digits-cnn, minutes on MobileNetV2."))
        target = radio(tr("Where will it run?"), q.TARGETS, q.value_of(answers.target),
                       "q_target", tr("Accelerators run only some formats: Edge TPUs and "
                                      "microcontrollers need full-integer models."),
                       horizontal=True)
        size_goal = radio(tr("How much smaller should it get?"), q.SIZE,
                          q.value_of(answers.size_goal), "q_size", horizontal=True)
        effort = radio(tr("How much effort?"), q.EFFORT, q.value_of(answers.effort), "q_effort",
                       horizontal=True)
        accuracy = radio(tr("Accuracy priority"), q.ACCURACY, q.value_of(answers.accuracy),
                         "q_accuracy", horizontal=True)
    with right:
        layout.section(tr("Your goals"), tr("Every result will say whether it meets these."))
        drop = st.number_input(tr("Largest acceptable accuracy drop"), min_value=0.0,
                               max_value=100.0, value=float(saved["drop"]), step=0.5,
                               key="g_drop")
        drop_mode = st.radio(tr("measured in"), list(q.DROP_MODES),
                             index=list(q.DROP_MODES).index(saved["drop_mode"]),
                             format_func=q.label(q.DROP_MODES), key="g_drop_mode",
                             horizontal=True)
        c1, c2 = st.columns([3, 2])
        size_kind = c1.selectbox(tr("Size target (optional)"), list(q.SIZE_KINDS),
                                 index=list(q.SIZE_KINDS).index(saved["size_kind"]),
                                 format_func=q.label(q.SIZE_KINDS), key="g_size_kind")
        size_value = c2.number_input(tr("kB, or x smaller"), min_value=0.0,
                                     value=float(saved["size_value"]), step=1.0,
                                     key="g_size_value")
        compressed = st.checkbox(tr("Judge the download (gzip) size"),
                                 value=saved["compressed"], key="g_compressed",
                                 help=tr("Pruning and clustering shrink only the compressed "
                                         "size."))
        latency_ms = st.number_input(tr("Latency target (ms per inference, median; 0 = none)"),
                                     min_value=0.0, value=float(saved["latency_ms"]),
                                     step=0.1, format="%.3f", key="g_latency")
        ready = st.checkbox(tr("Must be ready for the target"), value=saved["must_be_ready"],
                            key="g_ready", help=tr(
                                "Off the CPU, a variant counts only if its readiness check for "
                                "the target says it runs there (TFLite Micro, NPU compilers, or "
                                "the documented rules; the Results page says which)."))
        m1, m2 = st.columns(2)
        ram_kb = m1.number_input(tr("Microcontroller RAM (kB, 0 = none)"), min_value=0.0,
                                 value=saved["ram_kb"], step=16.0, key="g_ram_kb",
                                 help=tr("For the microcontroller target: the tensor arena "
                                         "TFLite Micro needs must fit (1 kB = 1024 bytes)."))
        flash_kb = m2.number_input(tr("Microcontroller flash (kB, 0 = none)"), min_value=0.0,
                                   value=saved["flash_kb"], step=64.0, key="g_flash_kb",
                                   help=tr("For the microcontroller target: the model's bytes."))
    submitted = st.form_submit_button(tr("See my recommendation"), type="primary",
                                      icon=":material/arrow_forward:", icon_position="right")

if submitted:
    try:
        new_answers = Answers(optimize=optimize, data=data, can_retrain=can_retrain,
                              target=target, size_goal=size_goal, effort=effort,
                              accuracy=accuracy)
        new_goals = q.goals_from_form(drop, drop_mode, size_kind, size_value, compressed,
                                      latency_ms, target=target, must_be_ready=ready,
                                      ram_kb=ram_kb, flash_kb=flash_kb)
    except ValueError as exc:
        layout.show_error(exc, tr("Please check your answers"))
    else:
        if new_answers != answers:
            state.put(state.RUN_SPECS, None)   # re-pick techniques for the new situation
        state.put(state.ANSWERS, new_answers)
        state.put(state.GOALS, new_goals)
        state.put(state.CONFIRMED, True)
        nav.go(nav.RECOMMENDATION)

st.divider()
left, right = st.columns([1, 1])
with left:
    nav.back_button(nav.MODEL, tr("Back to the model"), key="situation_back")
with right:
    st.caption(tr("Submitting the form takes you to the recommendation."))
