"""Step 3 · Recommendation: the technique, the tree with your path, the guide's facts, why not
the others, and what to run."""
import streamlit as st

from optimizer import (
    DATA_LABELS,
    GUIDE,
    QUANT_TREE,
    TARGET_LABELS,
    TECHNIQUES,
    read_run,
    recommend,
)
from optimizer.recommendation.tree import YES
from optimizer.report import render_insight, run_verdict, tree_figure
from optimizer.text import tr
from pages.common import layout, nav, runs, state

if st.session_state.pop(state.LAUNCHED, False):
    nav.go(nav.RUN)   # the Run button's callback started the run: straight on, nothing redrawn


def launch() -> None:
    """The Run button's callback: it runs before this page runs again, so the click reaches
    ``start_run`` at once (measured by ``bench first-chart``: the page's rerun up to the
    button took 0.8 s on a loaded 2-core machine), and the page then moves on to Run."""
    try:
        runs.launch(list(st.session_state.get("rec_specs") or []))
    except Exception as exc:  # noqa: BLE001 - shown as a message beside the button
        st.session_state[state.LAUNCH_ERROR] = exc
    else:
        st.session_state[state.LAUNCHED] = True


layout.header(nav.RECOMMENDATION, tr("What the guide's decision tree recommends for your "
                                     "situation, and why."))
answers = state.answers()
if not state.get(state.CONFIRMED):
    st.info(tr("These are the demo's default answers. Change them on **{page}**.",
               page=tr(nav.SITUATION.title)), icon=":material/info:")

try:
    rec = recommend(answers)      # written in the page's language (optimizer.text)
except ValueError as exc:
    layout.show_error(exc, tr("Making the recommendation"))
    nav.back_button(nav.SITUATION, tr("Back to your situation"), key="rec_error_back")
    st.stop()

target = tr(TARGET_LABELS[answers.target])
if rec.technique is not None:
    info = TECHNIQUES[rec.technique]
    st.success(tr("#### Recommended for {target}: {title}\nTechnique spec `{spec}`. {summary}",
                  target=target, title=tr(info.title), spec=rec.run_spec,
                  summary=tr(info.summary)), icon=":material/verified:")
else:
    st.warning(tr("#### Nothing that runs on {target} can be made with your data\nSee below "
                  "what data would unlock it.", target=target), icon=":material/lock:")
if rec.override:
    st.info(tr("**The hardware changed the tree's answer.** {why}", why=rec.override),
            icon=":material/memory:")


def _measured_verdict(run_dir) -> None:
    """Once this session's latest run has results: did the measurements agree with the guide?
    (The Results page's own evaluation: ``run_verdict``.)"""
    run = read_run(run_dir)
    if not run.results or rec.run_spec is None:
        return
    verdict = run_verdict(run_dir)
    if verdict.recommended != rec.run_spec:
        return
    if verdict.agreement == "agreed":
        st.success(tr("**Measured on {model}:** the measurements agreed with the guide; nothing "
                      "measured contradicts `{spec}`.", model=layout.plain(run.model),
                      spec=rec.run_spec), icon=":material/thumb_up:")
    elif verdict.agreement == "disagreed":
        st.warning(tr("**Measured on {model}, the measurements disagree with the guide.**",
                      model=layout.plain(run.model)) + "\n\n"
                   + "\n\n".join(layout.plain(render_insight(n)) for n in verdict.against),
                   icon=":material/rule:")


if state.get(state.RUN_DIR):
    _measured_verdict(state.get(state.RUN_DIR))

layout.section(tr("The guide's decision tree, with your path"),
               tr("Questions green, techniques orange; your answers are highlighted. Source: "
                  "{source}.", source=tr(GUIDE)))
# the tree's leaf is drawn as chosen only when the hardware kept it (fix 6: no false highlight)
shown_leaf = rec.leaf if rec.technique is not None and not rec.override else None
# On a phone the wide tree's labels cannot be read: layout's CSS hides this container there
# and the walk below (the path alone, in words) stands in for it.
with st.container(key="tree_wide"):
    st.plotly_chart(tree_figure(QUANT_TREE, path=rec.path, leaf=shown_leaf), key="tree",
                    config={"displayModeBar": False, "staticPlot": False})
st.markdown("  \n".join(f"**{s.question}** → **{tr('Yes') if s.answer == YES else tr('No')}** "
                        f"— {s.because}"
                        for s in rec.path)
            + f"  \n⇒ *{tr(QUANT_TREE.node(rec.leaf).text)}*"
            + ("" if shown_leaf else tr(" — the tree's leaf, overruled by your hardware (above)")))

if rec.unlock:
    layout.section(tr("What would unlock a recommendation"))
    st.markdown("\n".join(f"- {u.text}" for u in rec.unlock))

left, right = st.columns([3, 2], gap="large")
with left:
    layout.section(tr("Why this technique"))
    # the walk through the tree is drawn above, the override stated above, the guide's row
    # is the table below
    st.markdown("\n".join(f"- {r}" for r, kind in zip(rec.reasons, rec.reason_kinds)
                           if kind not in ("tree", "table", "override")))
    if rec.technique is not None:
        info = TECHNIQUES[rec.technique]
        st.markdown(
            f"| {tr('Data needed')} | {tr('Size reduction')} | {tr('Accuracy')} | "
            f"{tr('Hardware')} |\n|---|---|---|---|\n"
            f"| {tr(DATA_LABELS[info.data])} | {tr(info.guide_size)} | "
            f"{tr(info.guide_accuracy)} | {tr(info.guide_hardware)} |")
        st.caption(tr("The guide's row for {title} ({source}).", title=tr(info.title),
                      source=tr(info.source)))
    for note in rec.notes:
        st.info(note, icon=":material/memory:")
with right, st.container(border=True):
    layout.section(tr("What to run"), tr("The float32 baseline always runs first. "
                                         "Post-training variants take seconds; retraining ones "
                                         "fine-tune the model."))
    options = runs.all_specs()
    planned = state.get(state.RUN_SPECS)
    if planned is None:
        planned = runs.planned_specs(rec)
    picked = st.multiselect(tr("Techniques to run and compare"), options,
                            default=[s for s in planned if s in options], key="rec_specs",
                            help=tr("Recommended first; alternatives worth comparing: {specs}",
                                    specs=", ".join(rec.alternatives) or tr("none")))
    state.put(state.RUN_SPECS, list(picked))
    label = tr("Run {count} models now (baseline + {picked})", count=len(picked) + 1,
               picked=len(picked)) if picked else tr("Run the float32 baseline only")
    # with nothing runnable on the target, a float32-only run measures nothing useful there
    blocked = not picked and rec.technique is None
    if blocked:
        st.caption(tr("Nothing that runs on {target} can be made with your data, and a float "
                      "model does not run there: pick techniques to compare on this CPU, or "
                      "change your answers.", target=target))
    st.button(label, type="primary", icon=":material/play_arrow:", key="rec_run",
              disabled=blocked, on_click=launch)
    failed = st.session_state.pop(state.LAUNCH_ERROR, None)
    if failed is not None:
        layout.show_error(failed, tr("Starting the run"))
    nav.back_button(nav.SITUATION, tr("Change your answers"), key="rec_back")

layout.section(tr("Why not the others"), tr("Every other technique in the guide, and why the "
                                            "tree or your hardware ruled it out."))
st.markdown(f"| {tr('Technique')} | {tr('What it is')} | {tr('Why not')} |\n|---|---|---|\n"
            + "\n".join(f"| `{e.technique.value}` | {tr(TECHNIQUES[e.technique].title)} | "
                         f"{e.reason} |" for e in rec.excluded))
