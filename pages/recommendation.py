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
from optimizer.report import run_verdict, tree_figure
from pages.common import layout, nav, runs, state

layout.header(nav.RECOMMENDATION, "What the guide's decision tree recommends for your "
                                  "situation, and why.")
answers = state.answers()
if not state.get(state.CONFIRMED):
    st.info("These are the demo's default answers. Change them on **Your situation**.",
            icon=":material/info:")

try:
    rec = recommend(answers)
except ValueError as exc:
    layout.show_error(exc, "Making the recommendation")
    nav.back_button(nav.SITUATION, "Back to your situation", key="rec_error_back")
    st.stop()

target = TARGET_LABELS[answers.target]
if rec.technique is not None:
    info = TECHNIQUES[rec.technique]
    st.success(f"#### Recommended for {target}: {info.title}\n"
               f"Technique spec `{rec.run_spec}`. {info.summary}", icon=":material/verified:")
else:
    st.warning(f"#### Nothing that runs on {target} can be made with your data\n"
               "See below what data would unlock it.", icon=":material/lock:")
if rec.override:
    st.info(f"**The hardware changed the tree's answer.** {rec.override}",
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
        st.success(f"**Measured on {layout.plain(run.model)}:** the measurements agreed with the "
                   f"guide; nothing measured contradicts `{rec.run_spec}`.",
                   icon=":material/thumb_up:")
    elif verdict.agreement == "disagreed":
        st.warning(f"**Measured on {layout.plain(run.model)}, the measurements disagree with the "
                   "guide.**\n\n" + "\n\n".join(layout.plain(n.text) for n in verdict.against),
                   icon=":material/rule:")


if state.get(state.RUN_DIR):
    _measured_verdict(state.get(state.RUN_DIR))

layout.section("The guide's decision tree, with your path",
               f"Questions green, techniques orange; your answers are highlighted. "
               f"Source: {GUIDE}.")
# the tree's leaf is drawn as chosen only when the hardware kept it (fix 6: no false highlight)
shown_leaf = rec.leaf if rec.technique is not None and not rec.override else None
# On a phone the wide tree's labels cannot be read: layout's CSS hides this container there
# and the walk below (the path alone, in words) stands in for it.
with st.container(key="tree_wide"):
    st.plotly_chart(tree_figure(QUANT_TREE, path=rec.path, leaf=shown_leaf), key="tree",
                    config={"displayModeBar": False, "staticPlot": False})
st.markdown("  \n".join(f"**{s.question}** → **{'Yes' if s.answer == 'Y' else 'No'}** — "
                        f"{s.because}" for s in rec.path)
            + f"  \n⇒ *{QUANT_TREE.node(rec.leaf).text}*"
            + ("" if shown_leaf else " — the tree's leaf, overruled by your hardware (above)"))

if rec.unlock:
    layout.section("What would unlock a recommendation")
    st.markdown("\n".join(f"- {u.text}" for u in rec.unlock))

left, right = st.columns([3, 2], gap="large")
with left:
    layout.section("Why this technique")
    # the walk through the tree is drawn above and the guide's row is the table below
    shown = ("The guide's quantization decision tree", "The guide's table for")
    st.markdown("\n".join(f"- {r}" for r in rec.reasons
                           if not r.startswith(shown) and r != rec.override))
    if rec.technique is not None:
        info = TECHNIQUES[rec.technique]
        st.markdown(
            "| Data needed | Size reduction | Accuracy | Hardware |\n|---|---|---|---|\n"
            f"| {DATA_LABELS[info.data]} | {info.guide_size} | {info.guide_accuracy} | "
            f"{info.guide_hardware} |")
        st.caption(f"The guide's row for {info.title} ({info.source}).")
    for note in rec.notes:
        st.info(note, icon=":material/memory:")
with right, st.container(border=True):
    layout.section("What to run", "The float32 baseline always runs first. Post-training "
                                  "variants take seconds; retraining ones fine-tune the model.")
    options = runs.all_specs()
    planned = state.get(state.RUN_SPECS)
    if planned is None:
        planned = runs.planned_specs(rec)
    picked = st.multiselect("Techniques to run and compare", options,
                            default=[s for s in planned if s in options], key="rec_specs",
                            help="Recommended first; alternatives worth comparing: "
                                 + ", ".join(rec.alternatives or ("none",)))
    state.put(state.RUN_SPECS, list(picked))
    label = f"Run {len(picked) + 1} models now (baseline + {len(picked)})" if picked \
        else "Run the float32 baseline only"
    # with nothing runnable on the target, a float32-only run measures nothing useful there
    blocked = not picked and rec.technique is None
    if blocked:
        st.caption(f"Nothing that runs on {target} can be made with your data, and a float "
                   "model does not run there: pick techniques to compare on this CPU, or "
                   "change your answers.")
    if st.button(label, type="primary", icon=":material/play_arrow:", key="rec_run",
                 disabled=blocked):
        try:
            runs.launch(picked)
        except Exception as exc:  # noqa: BLE001 - shown as a message
            layout.show_error(exc, "Starting the run")
        else:
            nav.go(nav.RUN)
    nav.back_button(nav.SITUATION, "Change your answers", key="rec_back")

layout.section("Why not the others", "Every other technique in the guide, and why the tree "
                                     "or your hardware ruled it out.")
st.markdown("| Technique | What it is | Why not |\n|---|---|---|\n" + "\n".join(
    f"| `{e.technique.value}` | {TECHNIQUES[e.technique].title} | {e.reason} |"
    for e in rec.excluded))
