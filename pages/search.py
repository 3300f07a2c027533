"""Go further · Search my goals: the smallest model that meets your goals on your hardware."""
import streamlit as st

from optimizer import model_label
from optimizer.search import REPAIR_BASE, stop_search
from optimizer.text import N_, tr
from pages.common import layout, nav, search_view, state
from pages.common import questions as q

layout.header(nav.SEARCH, tr("Instead of answering the tree's questions, state your goals: the "
                             "search runs every technique your hardware allows, cheapest first, "
                             "skips what cannot beat the best so far, and stops at your time "
                             "budget. Every trial is measured for real."))
OBJECTIVES = {"size": N_("the smallest"), "accuracy": N_("the most accurate")}

answers, goals = state.answers(), state.goals()
saved = q.goal_form_defaults(goals, answers.target)
search = search_view.current()
running = search is not None and not search.done

with st.form("search_form"):
    st.markdown(tr("**Model:** {model} (change it on the Model page)",
                   model=layout.plain(model_label(state.get(state.MODEL)))))
    left, right = st.columns([3, 2], gap="large")
    with left:
        targets = list(q.TARGETS)
        target = st.radio(tr("Where will it run?"), targets, format_func=q.label(q.TARGETS),
                          index=targets.index(q.value_of(answers.target)), key="s_target",
                          horizontal=True)
        drop = st.number_input(tr("Largest acceptable accuracy drop"), min_value=0.0,
                               max_value=100.0, value=float(saved["drop"]), step=0.5,
                               key="s_drop")
        drop_mode = st.radio(tr("measured in"), list(q.DROP_MODES),
                             index=list(q.DROP_MODES).index(saved["drop_mode"]),
                             format_func=q.label(q.DROP_MODES), key="s_drop_mode",
                             horizontal=True)
        minutes = st.slider(tr("Time budget (minutes)"), min_value=1, max_value=30, value=10,
                            key="s_minutes", help=tr("The search starts nothing it cannot "
                                                     "finish in the time left (estimated from "
                                                     "what it measured so far) and stops at "
                                                     "the budget."))
        scope = st.radio(tr("What to try"), list(search_view.SCOPES),
                         format_func=q.label(search_view.SCOPES), key="s_scope",
                         horizontal=True,
                         help=tr("Post-training only: the conversions alone (one job, seconds "
                                 "to minutes), and when int8 misses the accuracy budget a "
                                 "precision per layer; no pruning, clustering or QAT "
                                 "fine-tuning."))
    with right:
        c1, c2 = st.columns([3, 2])
        size_kind = c1.selectbox(tr("Size target (optional)"), list(q.SIZE_KINDS),
                                 index=list(q.SIZE_KINDS).index(saved["size_kind"]),
                                 format_func=q.label(q.SIZE_KINDS), key="s_size_kind")
        size_value = c2.number_input(tr("kB, or x smaller"), min_value=0.0,
                                     value=float(saved["size_value"]), step=1.0,
                                     key="s_size_value")
        compressed = st.checkbox(tr("Minimize the download (gzip) size"),
                                 value=saved["compressed"], key="s_compressed",
                                 help=tr("Off: the smallest file on disk. On: the smallest "
                                         "gzip -9 download, where pruning and clustering pay "
                                         "off."))
        latency_ms = st.number_input(tr("Latency target (ms per inference, median; 0 = none)"),
                                     min_value=0.0, value=float(saved["latency_ms"]), step=0.1,
                                     format="%.3f", key="s_latency")
        objective = st.radio(tr("Among the models that meet every goal, pick"),
                             ["size", "accuracy"], format_func=q.label(OBJECTIVES),
                             key="s_objective", horizontal=True)
        ready = st.checkbox(tr("Must be ready for the target"), value=saved["must_be_ready"],
                            key="s_ready", help=tr("Off the CPU, a trial counts only if its "
                                                   "readiness check for the target says it "
                                                   "runs there."))
        m1, m2 = st.columns(2)
        ram_kb = m1.number_input(tr("Microcontroller RAM (kB, 0 = none)"), min_value=0.0,
                                 value=saved["ram_kb"], step=16.0, key="s_ram_kb")
        flash_kb = m2.number_input(tr("Microcontroller flash (kB, 0 = none)"), min_value=0.0,
                                   value=saved["flash_kb"], step=64.0, key="s_flash_kb")
    submitted = st.form_submit_button(tr("Start the search"), type="primary", disabled=running,
                                      icon=":material/travel_explore:")

if submitted:
    try:
        new_goals = q.goals_from_form(drop, drop_mode, size_kind, size_value, compressed,
                                      latency_ms, target=target, must_be_ready=ready,
                                      ram_kb=ram_kb, flash_kb=flash_kb)
        search_view.launch(search_view.request_from_form(target, new_goals, minutes,
                                                         compressed, objective, scope))
    except ValueError as exc:
        layout.show_error(exc, tr("Starting the search"))
    else:
        st.rerun()

if search is None:
    st.info(tr("No search yet: set your goals and press **{button}**.",
               button=tr("Start the search")), icon=":material/info:")
    st.stop()

st.markdown(search_view.budget_line(search))


@st.fragment(run_every=None if search.done else search_view.POLL_S)
def live() -> None:
    """Re-read the search folder while it runs: trials and the front fill in as measured."""
    now = search_view.read_search(search.run_dir)
    st.progress(min(1.0, float(now.fraction or 0.0)) if not now.done else 1.0,
                text=search_view.status_line(now))
    if now.done and search.done:
        search_view.render_verdict(now)
    search_view.render_trials(now, key="live" if not now.done else "done")
    if not now.done:
        if st.button(tr("Stop the search (keep what it found)"), key="search_stop",
                     icon=":material/stop_circle:"):
            with st.spinner(tr("Stopping after the current step…")):
                stop_search(now.run_dir, workspace=state.get(state.SESSION_ID))
            st.rerun()
    elif not search.done:
        st.rerun()   # it just ended: redraw the page once with the verdict


live()
if search.done:
    if search.outcome is not None and search.outcome.trial(REPAIR_BASE) is not None:
        st.divider()
        st.markdown(tr("**Per-layer int8 error:** which layers lose the most to int8, and what "
                       "keeping them in float costs."))
        nav.next_button(nav.LAYERS, tr("See the per-layer repair"), key="search_to_layers",
                        primary=False)
