"""Step 1 · Model: pick a built-in demo (and see its model card) or upload your own."""
import streamlit as st

from optimizer import get_demo, list_demos
from pages.common import layout, nav, state, upload_view
from pages.common.cards import card_facts, layer_rows, model_card, split_lines

layout.header(nav.MODEL, "Pick the model to optimize. The built-in demos are trained models "
                         "with their own data, so everything runs offline; or bring your own.")

SOURCES = {"demo": "Built-in demo", "upload": "Your own model and data"}
current = state.get(state.MODEL)
source = st.segmented_control(
    "Model source", list(SOURCES), format_func=SOURCES.get, key="model_source", required=True,
    default="upload" if upload_view.current_upload(current) else "demo",
    label_visibility="collapsed")
if source == "upload":
    upload_view.render()
    st.divider()
    nav.next_button(nav.SITUATION, "Next: your situation", key="model_next",
                    disabled=upload_view.current_upload(state.get(state.MODEL)) is None)
    st.stop()

demos = {d.name: d for d in list_demos()}
names = list(demos)
choice = st.radio("Built-in demo", names, index=names.index(current) if current in names else 0,
                  format_func=lambda n: f"{demos[n].title}  ·  {n}", key="model_choice",
                  horizontal=False)
if choice != current:
    state.put(state.MODEL, choice)
    state.put(state.DATA, None)
    state.put(state.RUN_SPECS, None)   # a new model: pick techniques again
    st.rerun()                         # redraw the sidebar (drawn above) with the new model
demo = get_demo(choice)
st.markdown(f"**{demo.title}.** {demo.description}")


card = None
with st.spinner("Reading the model: layers, parameters, float size and ops "
                "(a few seconds the first time)…"):
    try:
        card = model_card(choice)
    except Exception as exc:  # noqa: BLE001 - shown as a message, the journey goes on
        layout.show_error(exc, "Reading the model card")

if card:
    facts = card_facts(card, demo)
    cols = st.columns(len(facts))
    for col, (label, value, help_text) in zip(cols, facts):
        col.metric(label, value, help=help_text, border=True)
    left, right = st.columns([3, 2], gap="large")
    with left:
        layout.section("Architecture", "Each layer with its output shape and parameter count.")
        st.dataframe(layer_rows(card), hide_index=True, width="stretch",
                     height=min(38 + 35 * len(card.get("layers", [])), 420))
    with right:
        layout.section("LiteRT ops in the float32 file",
                       "The operators the converted model uses; hardware delegates support "
                       "different subsets.")
        ops = card.get("ops") or []
        st.markdown(", ".join(layout.plain(op) for op in ops) or "not reported")
        splits = card.get("data") or {}
        if splits:
            layout.section("Data that comes with it")
            st.markdown("  \n".join(split_lines(splits)))
        st.caption(f"Input: {demo.input_description}.")

st.divider()
st.markdown("**Next:** tell the app about your data, hardware and goals.")
nav.next_button(nav.SITUATION, "Next: your situation", key="model_next")
