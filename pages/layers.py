"""Go further · Per-layer repair: which layers int8 hurts most, and keeping them in float."""
import streamlit as st

from optimizer import numbers
from optimizer.report import attempt_rows, layer_error_figure, layer_options, repair_rows
from optimizer.search import REPAIR_BASE, layer_reports, read_search, start_repair
from pages.common import layout, nav, search_view, state
from pages.common.table import MISSING

_num = st.column_config.NumberColumn
# the numbers arrive rounded as optimizer.numbers writes them (latency as text: µs below 0.1 ms)
COLUMNS = {"Accuracy": _num("Accuracy", format="plain"), "Metric": _num("Metric", format="plain"),
           "Size (kB)": _num("Size (kB)", format="plain"),
           "gzip (kB)": _num("gzip (kB)", format="plain"),
           "Latency": st.column_config.TextColumn("Latency", help="median; µs below 0.1 ms")}

layout.header(nav.LAYERS, "Post-training int8 can lose accuracy in a few layers: an input or an "
                          "activation whose range swamps the rest. Here you see each layer's "
                          "int8 error against its float output, and what keeping the worst "
                          "ones in float recovers and costs.")

search = search_view.current()
if search is None or search.outcome is None:
    st.info("Run a search first: the per-layer error is measured on the search's model.",
            icon=":material/info:")
    nav.next_button(nav.SEARCH, "Go to the search", key="layers_to_search")
    st.stop()

outcome = search.outcome
int8 = outcome.trial(REPAIR_BASE)
st.markdown(f"Search of **{layout.plain(search.model)}** "
            f"({search_view.STATUS.get(search.status, '')}).")


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
reports = layer_reports(outcome)
if not reports:
    if int8 is None or not int8.ok:
        st.warning("This search has no post-training int8 (integer) result to analyse: the "
                   "target does not allow it, or it failed.", icon=":material/warning:")
        st.stop()
    st.markdown("The search did not need to repair int8. Measure each layer's int8 error:")
    if st.button("Measure the per-layer int8 error", type="primary", key="layers_analyse",
                 disabled=not search.done, icon=":material/analytics:"):
        start("Starting the analysis", analyse=True)
    st.stop()

# options are report folders (stable), newest first; a new report (e.g. after a manual
# repair) becomes the selection, so the selector and the table below show the same trial
labels = {r.get("folder") or str(i): r["label"] for i, r in enumerate(reports)}
newest = next(iter(labels))
if state.get(state.LAYERS_NEWEST) != newest:
    state.put(state.LAYERS_NEWEST, newest)
    state.put("layers_report", newest)
pick = st.selectbox("Report", list(labels), format_func=labels.get, key="layers_report")
entry = reports[list(labels).index(pick)]
report = entry["report"]
kept = report.get("kept_float") or []
if kept:
    st.success("**Kept in float:** " + ", ".join(f"{layout.plain(k['layer'])} "
                                                f"({layout.plain(k['op'])})" for k in kept)
               + ". Every other layer stays int8.", icon=":material/memory:")
st.caption("Each bar: how far an op's int8 output is from its float output, in quantization "
           "steps (RMSE / scale), measured on representative samples. Rounding alone gives "
           "0.29 (dashed line); far beyond it, the op loses more than rounding.")
st.plotly_chart(layer_error_figure(report), key="layers_chart")

after = outcome.trial(entry["trial"]) if entry.get("trial") else None
if after is not None:
    layout.section("Before and after", "The same int8 model with all layers quantized, and with "
                                       "the layers above kept in float: what it recovered and "
                                       "what it cost.")
    st.dataframe(repair_rows(int8, after), hide_index=True, placeholder=MISSING, width="stretch",
                 key="layers_cost", column_config=COLUMNS)
if report.get("attempts") and entry.get("mode") == "auto":
    with st.expander("Every number of float layers tried"):
        st.dataframe(attempt_rows(report), hide_index=True, placeholder=MISSING, width="stretch",
                     key="layers_attempts", column_config=COLUMNS)

layout.section("Keep layers in float by hand", "Pick layers from the chart (worst first); the "
                                               "search measures one more trial with them in "
                                               "float, without recalibrating.")
options = layer_options(report)
names = {o["name"]: f"{o['layer']} ({o['op']}) · {numbers.sig(o['rmse_scale'])}" for o in options}
# the layers already kept plus the worst one not kept yet: the button then measures a new set-up
kept_names = [k["name"] for k in kept if k["name"] in names]
default = kept_names + [o["name"] for o in options if o["name"] not in kept_names][:1]
chosen = st.multiselect("Layers to keep in float", list(names), default=default,
                        format_func=names.get, key="layers_pick")
if st.button("Keep these in float and measure", type="primary", key="layers_repair",
             disabled=not chosen or not search.done, icon=":material/build:"):
    start("Starting the repair", layers=chosen)
st.divider()
nav.back_button(nav.SEARCH, "Back to the search", key="layers_back")
