"""Step 4 · Run: start the baseline and the chosen techniques, watch them live, cancel."""
import streamlit as st

from optimizer import cancel_run, model_label, read_run, recommend, results_frame
from optimizer.report import accuracy_budget, accuracy_size_figure, run_verdict
from pages.common import layout, nav, runs, state
from pages.common.cluster_view import show_cluster
from pages.common.progress import progress_rows, status_line
from pages.common.table import MISSING

POLL_S = 1.0

layout.header(nav.RUN, "Each technique runs for real in a background process: converted, "
                       "evaluated on the test split and timed on this machine.")

show_cluster()
run_dir = state.run_dir()
specs = state.get(state.RUN_SPECS)
if specs is None:
    try:
        specs = runs.planned_specs(recommend(state.answers()))
    except ValueError:
        specs = []


RUN_AGAIN_HELP = "Measures every technique again on this server; the result cache is not used."
OPEN_CACHED_HELP = ("Opens the results of the identical run measured before, at once; nothing is "
                    "measured.")


def cached_offer_text(offer: dict) -> str:
    """What "Open the cached result" would open: when and where it was measured."""
    return (f"An identical run (same model file, data, techniques, settings, code and packages) "
            f"was measured at {layout.plain(offer.get('measured_at'))} on "
            f"{layout.plain(offer.get('measured_on'))}: **Open the cached result** shows it at "
            f"once; **Run again** or **Start the run** measures anew.")


def start(label: str, key: str, primary: bool = True, use_cache: bool = True,
          help: str | None = None, icon: str = ":material/play_arrow:") -> None:
    """The only way a run starts: an explicit button. ``use_cache`` serves an identical run
    measured before ("Open the cached result"); without it every technique is measured."""
    if st.button(label, type="primary" if primary else "secondary", key=key, help=help,
                 icon=icon):
        try:
            runs.launch(specs, use_cache=use_cache)
        except Exception as exc:  # noqa: BLE001 - shown as a message
            layout.show_error(exc, "Starting the run")
        else:
            st.rerun()


if run_dir is None:
    st.markdown(f"**Model:** {layout.plain(model_label(state.get(state.MODEL)))}  \n"
                "**Will run:** float32 (baseline)"
                + "".join(f", `{s}`" for s in specs))
    offer = runs.cached(specs)
    if offer:
        st.info(cached_offer_text(offer), icon=":material/cached:")
        start("Open the cached result", key="run_open_cached", help=OPEN_CACHED_HELP,
              icon=":material/cached:")
        start("Start the run", key="run_start", primary=False, use_cache=False,
              help=RUN_AGAIN_HELP)
    else:
        start("Start the run", key="run_start",
              help="Measures every technique on this server; an identical run being "
                   "measured right now is waited for and shared, not repeated.")
    nav.back_button(nav.RECOMMENDATION, "Change what to run", key="run_back")
    st.stop()

initial = read_run(run_dir)


@st.fragment(run_every=None if initial.done else POLL_S)
def live_progress() -> None:
    """Re-read the run folder every second while it runs; everything shown comes from disk."""
    now = read_run(run_dir)
    st.progress(min(1.0, now.overall_fraction), text=status_line(now))
    if now.queue_message:
        st.info(layout.plain(now.queue_message), icon=":material/hourglass_top:")
    if now.extra.get("cached"):
        source = now.extra.get("cached_from") or {}
        st.info(f"Served from the cache: measured at {layout.plain(source.get('measured_at'))} "
                f"on {layout.plain(source.get('measured_on'))}.", icon=":material/cached:")
    if now.damaged:
        st.warning(layout.plain(now.damaged), icon=":material/broken_image:")
    st.dataframe(progress_rows(now), hide_index=True, width="stretch", key=None,
                 placeholder=MISSING,
                 column_config={
                     "Step": st.column_config.TextColumn("Step", width="medium"),
                     "Progress": st.column_config.ProgressColumn(
                         "Progress", min_value=0.0, max_value=1.0, format="percent"),
                     "Message": st.column_config.TextColumn("Message", width="large")})
    for result in now.results:
        if result.status == "error":
            st.error(f"**{layout.plain(result.technique)}** failed: "
                     f"{layout.plain(result.error)}", icon=":material/error:")
        elif result.status == "skipped":
            reason = (result.error or "").removeprefix("not applicable: ")
            st.info(f"**{layout.plain(result.technique)}** does not apply to this model: "
                    f"{layout.plain(reason)}",
                    icon=":material/block:")
    if now.error:
        st.error(f"**The run stopped:** {layout.plain(now.error)}", icon=":material/error:")
    if not now.done:
        if st.button("Cancel the run", key="run_cancel", icon=":material/stop_circle:"):
            cancel_run(run_dir, workspace=state.get(state.SESSION_ID))
            st.rerun()
    elif not initial.done:
        st.rerun()   # the run just ended: redraw the whole page once, without polling


live_progress()

if initial.done:
    frame = results_frame(initial.results)
    ok = frame[frame["status"] == "ok"]
    if len(ok):
        # judged like the Results page: by the goals the run was made for, on their size
        verdict = run_verdict(run_dir)
        layout.section("First look: accuracy vs size",
                       "Every measured result against the float32 baseline; the full table, "
                       "latency and downloads are on the Results page.")
        st.plotly_chart(accuracy_size_figure(frame, size=verdict.size,
                                             budget=accuracy_budget(verdict.results,
                                                                    verdict.goals)),
                        key="run_preview")
    st.caption("Anyone with this address sees these results, read-only (add it to this "
               "server's address):")
    st.code(runs.share_path(run_dir), language=None)
    left, right = st.columns([1, 1])
    with left:
        nav.next_button(nav.RESULTS, "See the full results", key="run_next",
                        disabled=not len(ok))
    with right:
        start("Run again", key="run_again", primary=False, use_cache=False, help=RUN_AGAIN_HELP)
        offer = runs.cached(specs, shown=initial)
        if offer:
            st.caption(cached_offer_text(offer))
            start("Open the cached result", key="run_open_cached", primary=False,
                  help=OPEN_CACHED_HELP, icon=":material/cached:")
    nav.back_button(nav.RECOMMENDATION, "Change what to run", key="run_back_done")
else:
    st.caption("You can leave this page: the run goes on, and coming back shows it again.")
    nav.next_button(nav.RESULTS, "See results so far", key="run_next_partial", primary=False)
