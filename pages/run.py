"""Step 4 · Run: start the baseline and the chosen techniques, watch them live, cancel."""
import streamlit as st

from optimizer import cancel_run, model_label, read_run, recommend, results_frame
from optimizer.report import accuracy_budget, accuracy_size_figure, key_table_html, run_verdict
from optimizer.text import N_, tr
from pages.common import layout, nav, runs, state
from pages.common.cluster_view import show_cluster
from pages.common.progress import progress_rows, status_line
from pages.common.table import MISSING

#: Seconds between two reads of the run folder while it runs (the page's share of the wait
#: between a result on disk and the chart on screen: half of it on average).
POLL_S = 0.5

layout.header(nav.RUN, tr("Each technique runs for real in a background process: converted, "
                          "evaluated on the test split and timed on this machine."))

show_cluster()
run_dir = state.run_dir()
specs = state.get(state.RUN_SPECS)
if specs is None:
    try:
        specs = runs.planned_specs(recommend(state.answers()))
    except ValueError:
        specs = []


RUN_AGAIN_HELP = N_("Measures every technique again on this server; the result cache is not "
                    "used.")
OPEN_CACHED_HELP = N_("Opens the results of the identical run measured before, at once; nothing "
                      "is measured.")


def cached_offer_text(offer: dict) -> str:
    """What "Open the cached result" would open: when and where it was measured."""
    return tr("An identical run (same model file, data, techniques, settings, code and "
              "packages) was measured at {when} on {where}: **Open the cached result** shows it "
              "at once; **Run again** or **Start the run** measures anew.",
              when=layout.plain(offer.get("measured_at")),
              where=layout.plain(offer.get("measured_on")))


def start(label: str, key: str, primary: bool = True, use_cache: bool = True,
          help: str | None = None, icon: str = ":material/play_arrow:") -> None:
    """The only way a run starts: an explicit button. ``use_cache`` serves an identical run
    measured before ("Open the cached result"); without it every technique is measured."""
    if st.button(tr(label), type="primary" if primary else "secondary", key=key,
                 help=tr(help) if help else None, icon=icon):
        try:
            runs.launch(specs, use_cache=use_cache)
        except Exception as exc:  # noqa: BLE001 - shown as a message
            layout.show_error(exc, tr("Starting the run"))
        else:
            st.rerun()


if run_dir is None:
    st.markdown(tr("**Model:** {model}  \n**Will run:** float32 (baseline){specs}",
                   model=layout.plain(model_label(state.get(state.MODEL))),
                   specs="".join(f", `{s}`" for s in specs)))
    offer = runs.cached(specs)
    if offer:
        st.info(cached_offer_text(offer), icon=":material/cached:")
        start(N_("Open the cached result"), key="run_open_cached", help=OPEN_CACHED_HELP,
              icon=":material/cached:")
        start(N_("Start the run"), key="run_start", primary=False, use_cache=False,
              help=RUN_AGAIN_HELP)
    else:
        start(N_("Start the run"), key="run_start",
              help=N_("Measures every technique on this server; an identical run being "
                      "measured right now is waited for and shared, not repeated."))
    nav.back_button(nav.RECOMMENDATION, tr("Change what to run"), key="run_back")
    st.stop()

initial = read_run(run_dir)


@st.fragment(run_every=None if initial.done else POLL_S)
def live_progress() -> None:
    """Re-read the run folder every ``POLL_S`` while it runs; everything shown comes from disk,
    the results drawn as they arrive."""
    now = read_run(run_dir)
    st.progress(min(1.0, now.overall_fraction), text=status_line(now))
    if now.queue_message:
        st.info(layout.plain(now.queue_message), icon=":material/hourglass_top:")
    if now.extra.get("cached"):
        source = now.extra.get("cached_from") or {}
        st.info(tr("Served from the cache: measured at {when} on {where}.",
                   when=layout.plain(source.get("measured_at")),
                   where=layout.plain(source.get("measured_on"))), icon=":material/cached:")
    if now.damaged:
        st.warning(layout.plain(now.damaged), icon=":material/broken_image:")
    st.dataframe(progress_rows(now), hide_index=True, width="stretch", key=None,
                 placeholder=MISSING,
                 column_config={
                     tr("Step"): st.column_config.TextColumn(tr("Step"), width="medium"),
                     tr("Progress"): st.column_config.ProgressColumn(
                         tr("Progress"), min_value=0.0, max_value=1.0, format="percent"),
                     tr("Message"): st.column_config.TextColumn(tr("Message"), width="large")})
    for result in now.results:
        if result.status == "error":
            st.error(tr("**{technique}** failed: {error}", technique=layout.plain(result.technique),
                        error=layout.plain(result.error)), icon=":material/error:")
        elif result.status == "skipped":
            reason = (result.error or "").removeprefix("not applicable: ")
            st.info(tr("**{technique}** does not apply to this model: {reason}",
                       technique=layout.plain(result.technique), reason=layout.plain(reason)),
                    icon=":material/block:")
    if now.error:
        st.error(tr("**The run stopped:** {error}", error=layout.plain(now.error)),
                 icon=":material/error:")
    if not now.done:
        if st.button(tr("Cancel the run"), key="run_cancel", icon=":material/stop_circle:"):
            cancel_run(run_dir, workspace=state.get(state.SESSION_ID))
            st.rerun()
        first_look(now.results, live=True)
    elif not initial.done:
        st.rerun()   # the run just ended: redraw the whole page once, without polling


def first_look(results, live: bool) -> int:
    """The accuracy-vs-size chart (and, while the run goes on, the key table) of the results
    measured so far; returns how many there are. A result whose latency is not timed yet says
    so in the table ("not timed yet"): latency appears only once it is measured."""
    frame = results_frame(results)
    ok = frame[frame["status"] == "ok"]
    if not len(ok):
        return 0
    # judged like the Results page: by the goals the run was made for, on their size (a
    # result not timed yet is "not checked" against a latency goal, never met or missed)
    verdict = run_verdict(run_dir, results=results)
    layout.section(tr("First look: accuracy vs size"),
                   tr("Results as they are measured: float32 and the post-training variants "
                      "first, retraining ones when they finish; latency is timed after each "
                      "job.") if live else
                   tr("Every measured result against the float32 baseline; the full table, "
                      "latency and downloads are on the Results page."))
    st.plotly_chart(accuracy_size_figure(frame, size=verdict.size,
                                         budget=accuracy_budget(verdict.results, verdict.goals)),
                    key="run_preview_live" if live else "run_preview")
    if live:
        st.html(key_table_html(ok, verdict.checks))
    return len(ok)


live_progress()

if initial.done:
    ok = first_look(initial.results, live=False)
    st.caption(tr("Anyone with this address sees these results, read-only (add it to this "
                  "server's address):"))
    st.code(runs.share_path(run_dir), language=None)
    left, right = st.columns([1, 1])
    with left:
        nav.next_button(nav.RESULTS, tr("See the full results"), key="run_next",
                        disabled=not ok)
    with right:
        start(N_("Run again"), key="run_again", primary=False, use_cache=False,
              help=RUN_AGAIN_HELP)
        offer = runs.cached(specs, shown=initial)
        if offer:
            st.caption(cached_offer_text(offer))
            start(N_("Open the cached result"), key="run_open_cached", primary=False,
                  help=OPEN_CACHED_HELP, icon=":material/cached:")
    nav.back_button(nav.RECOMMENDATION, tr("Change what to run"), key="run_back_done")
else:
    st.caption(tr("You can leave this page: the run goes on, and coming back shows it again."))
    nav.next_button(nav.RESULTS, tr("See results so far"), key="run_next_partial",
                    primary=False)
