"""Step 1 · Model: pick a built-in demo (and see its model card) or upload your own."""
import streamlit as st

from optimizer import get_demo, list_demos
from pages.common import layout, nav, state, upload_view
from pages.common.cards import read_card, show_card

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
    upload = upload_view.current_upload(state.get(state.MODEL))
    if upload is not None and (card := read_card(upload.manifest_path)):
        show_card(card)             # the same card as a demo's, from the checked upload
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


card = read_card(choice)
if card:
    show_card(card, demo)

st.divider()
st.markdown("**Next:** tell the app about your data, hardware and goals.")
nav.next_button(nav.SITUATION, "Next: your situation", key="model_next")
