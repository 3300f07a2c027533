"""Go further · Per-layer repair: which layers int8 hurts most, and giving them int16 or float."""
import streamlit as st

from optimizer import TARGETS, LayerPlan, numbers
from optimizer.report import (
    attempt_rows,
    layer_error_figure,
    layer_options,
    plan_rows,
    repair_rows,
    sensitivity_rows,
    sensitivity_summary,
)
from optimizer.search import (
    REPAIR_BASE,
    layer_reports,
    read_search,
    sensitivity_reports,
    start_repair,
)
from optimizer.text import joined, render, tr
from pages.common import layout, nav, search_view, state
from pages.common.table import MISSING

_num = st.column_config.NumberColumn
# the numbers arrive rounded as optimizer.numbers writes them (latency as text: µs below 0.1 ms)
COLUMNS = {tr("Accuracy"): _num(tr("Accuracy"), format="plain"),
           tr("Metric"): _num(tr("Metric"), format="plain"),
           tr("Size (kB)"): _num(tr("Size (kB)"), format="plain"),
           tr("gzip (kB)"): _num(tr("gzip (kB)"), format="plain"),
           tr("Latency"): st.column_config.TextColumn(tr("Latency"),
                                                      help=tr("median; µs below 0.1 ms"))}

layout.header(nav.LAYERS, tr("Post-training int8 can lose accuracy in a few layers: an input or "
                             "an activation whose range swamps the rest. Here you see what "
                             "giving each layer int16 activations or float recovers and costs, "
                             "measured, and each layer's int8 error against its float output."))

search = search_view.current()
if search is None or search.outcome is None:
    st.info(tr("Run a search first: the per-layer error is measured on the search's model."),
            icon=":material/info:")
    nav.next_button(nav.SEARCH, tr("Go to the search"), key="layers_to_search")
    st.stop()

outcome = search.outcome
int8 = outcome.trial(REPAIR_BASE)
st.markdown(tr("Search of **{model}** ({status}).", model=layout.plain(search.model),
               status=search_view.status_words(search.status)))


@st.fragment(run_every=None if search.done else search_view.POLL_S)
def waiting() -> None:
    """While a search, repair or analysis runs on this folder, say so and poll."""
    now = read_search(search.run_dir)
    if now.done:
        if not search.done:
            st.rerun()
        return
    st.progress(min(1.0, float(now.fraction or 0.0)), text=search_view.status_line(now))


def start(what: str, **how) -> None:
    """Start a repair or an analysis on the search's folder, or say why it cannot start."""
    try:
        start_repair(search.run_dir, **how, workspace=state.get(state.SESSION_ID))
    except ValueError as exc:
        layout.show_error(exc, what)
    else:
        st.rerun()


waiting()

# -- a precision per layer: int16 or float, each measured before you choose --------------------
target = TARGETS[search.request.target] if search.request is not None else None
allowed = target.layer_precisions if target is not None else ()
layout.section(tr("A precision per layer"),
               tr("int16 activations (with int8 weights) keep 256 times finer steps than int8; "
                  "float keeps the layer as it was. Each costs bytes and time: both are "
                  "measured below, one layer at a time, before you choose."))
precision = sensitivity_reports(outcome)
if len(allowed) < 2:
    st.info(tr("{target} runs int8 layers only: there is no other precision to give a layer.",
               target=tr(target.label)) if target else
            tr("This target runs int8 layers only: there is no other precision to give a "
               "layer."), icon=":material/info:")
elif not precision:
    st.markdown(tr("Measure what each layer recovers and costs at {precisions}:",
                   precisions=render(joined([p for p in allowed if p != "int8"], " and "))))
    if st.button(tr("Measure each layer's precisions"), type="primary", key="layers_precisions",
                 disabled=not search.done, icon=":material/tune:"):
        start(tr("Starting the measurement"), sensitivity=True)
else:
    sensitivity = precision[0]["report"]
    st.caption(sensitivity_summary(sensitivity))
    st.dataframe(sensitivity_rows(sensitivity, allowed), hide_index=True, width="stretch",
                 key="layers_sensitivity")
    # start from the search's best plan (the best trial if it is one, else the last plan tried)
    plans = [t for t in outcome.trials if t.ok and (t.settings or {}).get("mixed", {}).get("plan")]
    shown = next((t for t in plans if t.technique == outcome.best), plans[-1] if plans else None)
    current = dict(LayerPlan.parse(shown.settings["mixed"]["plan"]).layers) if shown else {}
    if shown is not None:
        st.caption(tr("The table starts from {trial}'s plan.",
                      trial=layout.plain(shown.technique)))
    layer, op, precision_ = tr("Layer"), tr("Op"), tr("Precision")   # the columns' names
    picked = st.data_editor(
        [{layer: r["Layer"], op: r["Op"], precision_: r["Precision"]}
         for r in plan_rows(sensitivity, current)], hide_index=True, width="stretch",
        key="layers_plan", disabled=[layer, op],
        column_config={precision_: st.column_config.SelectboxColumn(
            precision_, options=list(allowed), required=True)})
    rows = picked.to_dict("records") if hasattr(picked, "to_dict") else list(picked)
    chosen = {row[layer]: row[precision_] for row in rows if row[precision_] != "int8"}
    if st.button(tr("Measure this plan"), type="primary", key="layers_measure_plan",
                 disabled=not chosen or not search.done, icon=":material/build:"):
        start(tr("Starting the plan"), plan=LayerPlan(tuple(chosen.items()), io=target.plan_io))

layout.section(tr("Per-layer int8 error"), tr("How far each layer's int8 output is from its "
                                              "float output, and keeping the worst layers in "
                                              "float."))
reports = layer_reports(outcome)
if not reports:
    if int8 is None or not int8.ok:
        st.info(tr("Keeping layers in float needs this search's post-training int8 with float "
                   "fallback (integer): the target does not run it, or it failed."),
                icon=":material/info:")
        st.divider()
        nav.back_button(nav.SEARCH, tr("Back to the search"), key="layers_back_int8")
        st.stop()
    st.markdown(tr("No per-layer int8 error measured for this search yet:"))
    if st.button(tr("Measure the per-layer int8 error"), key="layers_analyse",
                 disabled=not search.done, icon=":material/analytics:"):
        start(tr("Starting the analysis"), analyse=True)
    st.divider()
    nav.back_button(nav.SEARCH, tr("Back to the search"), key="layers_back_none")
    st.stop()

# options are report folders (stable), newest first; a new report (e.g. after a manual
# repair) becomes the selection, so the selector and the table below show the same trial
labels = {r.get("folder") or str(i): r["label"] for i, r in enumerate(reports)}
newest = next(iter(labels))
if state.get(state.LAYERS_NEWEST) != newest:
    state.put(state.LAYERS_NEWEST, newest)
    state.put("layers_report", newest)
pick = st.selectbox(tr("Report"), list(labels), format_func=labels.get, key="layers_report")
entry = reports[list(labels).index(pick)]
report = entry["report"]
kept = report.get("kept_float") or []
if kept:
    st.success(tr("**Kept in float:** {layers}. Every other layer stays int8.",
                  layers=", ".join(f"{layout.plain(k['layer'])} ({layout.plain(k['op'])})"
                                   for k in kept)), icon=":material/memory:")
st.caption(tr("Each bar: how far an op's int8 output is from its float output, in quantization "
              "steps (RMSE / scale), measured on representative samples. Rounding alone gives "
              "{rounding} (dashed line); far beyond it, the op loses more than rounding.",
              rounding=numbers.sig(0.29, 2)))
st.plotly_chart(layer_error_figure(report), key="layers_chart")

after = outcome.trial(entry["trial"]) if entry.get("trial") else None
if after is not None:
    layout.section(tr("Before and after"), tr("The same int8 model with all layers quantized, "
                                              "and with the layers above kept in float: what "
                                              "it recovered and what it cost."))
    st.dataframe(repair_rows(int8, after), hide_index=True, placeholder=MISSING, width="stretch",
                 key="layers_cost", column_config=COLUMNS)
if report.get("attempts") and entry.get("mode") == "auto":
    with st.expander(tr("Every number of float layers tried")):
        st.dataframe(attempt_rows(report), hide_index=True, placeholder=MISSING, width="stretch",
                     key="layers_attempts", column_config=COLUMNS)

layout.section(tr("Keep layers in float by hand"), tr("Pick layers from the chart (worst "
                                                      "first); the search measures one more "
                                                      "trial with them in float, without "
                                                      "recalibrating."))
options = layer_options(report)
names = {o["name"]: f"{o['layer']} ({o['op']}) · {numbers.sig(o['rmse_scale'])}" for o in options}
# the layers already kept plus the worst one not kept yet: the button then measures a new set-up
kept_names = [k["name"] for k in kept if k["name"] in names]
default = kept_names + [o["name"] for o in options if o["name"] not in kept_names][:1]
chosen = st.multiselect(tr("Layers to keep in float"), list(names), default=default,
                        format_func=names.get, key="layers_pick")
if st.button(tr("Keep these in float and measure"), type="primary", key="layers_repair",
             disabled=not chosen or not search.done, icon=":material/build:"):
    start(tr("Starting the repair"), layers=chosen)
st.divider()
nav.back_button(nav.SEARCH, tr("Back to the search"), key="layers_back")
