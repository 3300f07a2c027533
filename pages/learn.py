"""Learn · the guide for workshops: its techniques table, both decision trees, Tables 1 and 2
as published, and beside Table 1 the same architectures measured by this project."""
import streamlit as st

from optimizer import GUIDE, PTQ_TREE, QUANT_TREE, QUANT_TREE_FOOTNOTE
from optimizer.report import (
    PUBLISHED_SOURCE,
    TABLE_2_SOURCE,
    guide_techniques_table,
    measured_beside_table_1,
    published_table,
    published_table_2,
    table1_measured,
    tree_figure,
)
from pages.common import layout, nav
from pages.common.table import quoted_table

layout.header(nav.LEARN, f"The source document, {GUIDE}, as published: for a workshop, or "
                         "to check what the app's recommendations rest on.")

layout.section("The guide's quantization techniques", "Quoted from the guide (not measured).")
st.table(guide_techniques_table().set_index("Technique"))

layout.section("The quantization decision tree", f"Transcribed from the guide's image. "
                                                 f"Footnote: {QUANT_TREE_FOOTNOTE}")
with st.container(key="learn_tree_quant"):
    st.plotly_chart(tree_figure(QUANT_TREE), key="learn_quant_tree",
                    config={"displayModeBar": False})
layout.section("The post-training decision tree", "From the companion 'Post-training "
                                                  "quantization' page.")
with st.container(key="learn_tree_ptq"):
    st.plotly_chart(tree_figure(PTQ_TREE), key="learn_ptq_tree",
                    config={"displayModeBar": False})

layout.section("Table 1: benefits of quantization for some CNN models (published)",
               f"Source: {PUBLISHED_SOURCE}. N/A: not given in the guide.")
quoted_table(published_table(), missing="N/A")

document = table1_measured()
layout.section("Table 1 published beside measured here",
               "The same architectures built with tf_keras (random weights: accuracy is not "
               "meaningful, sizes and latency are) and converted by this project's pipeline "
               "to float32 and post-training full integer (int8). –: not measured here "
               "(`bench table1` builds the architectures listed in its module).")
beside = measured_beside_table_1(document)
if beside is None:
    st.info("Not measured yet: run `nice python -m optimizer bench table1` (minutes) to write "
            "assets/learn/table1_measured.json.", icon=":material/info:")
else:
    quoted_table(beside)
    versions = ", ".join(f"{k} {v}" for k, v in (document.get("versions") or {}).items() if v)
    host = next((r.get("measured_on") for r in document["rows"] if r.get("measured_on")), "?")
    st.caption(f"Measured {document.get('date', '?')} on {host}; {versions}. Published "
               "latency is a Pixel 2's single big core, measured latency this machine's CPU "
               f"with {document['rows'][0].get('threads') or '?'} thread(s): compare ratios, "
               "not milliseconds. A speed-up is named only when the p10–p90 intervals do not "
               "overlap; a busy shared machine widens them. Regenerate: "
               f"`{document.get('command', '')}`.")

layout.section("Table 2: accuracy with int16 activations (published)",
               f"Source: {TABLE_2_SOURCE}. int16x8 runs on reference kernels by default, "
               "so it is slower than int8 unless the hardware supports it.")
quoted_table(published_table_2())
