"""Learn · the guide for workshops: its techniques table, both decision trees, Tables 1 and 2
as published, and beside Table 1 the same architectures measured by this project."""
import streamlit as st

from optimizer import GUIDE, PTQ_TREE, QUANT_TREE, QUANT_TREE_FOOTNOTE
from optimizer.measuring.latency import host_words
from optimizer.report import (
    guide_techniques_table,
    measured_beside_table_1,
    published_table,
    published_table_2,
    table1_measured,
    table_1_source,
    table_2_source,
    tree_figure,
)
from optimizer.text import render, tr
from pages.common import layout, nav
from pages.common.table import quoted_table
from pages.common.tree_words import tree_in_words

layout.header(nav.LEARN, tr("The source document, {guide}, as published: for a workshop, or to "
                            "check what the app's recommendations rest on.", guide=tr(GUIDE)))

layout.section(tr("The guide's quantization techniques"),
               tr("Quoted from the guide (not measured)."))
techniques = guide_techniques_table()
st.table(techniques.set_index(techniques.columns[0]))
st.caption(tr("The guide's two editions differ on one cell: for post-training integer "
              "quantization the English edition says 'Small accuracy loss', the Vietnamese one "
              "'Mất độ chính xác không đáng kể' (insignificant accuracy loss). Each language of "
              "this app quotes its own edition."))

layout.section(tr("The quantization decision tree"),
               tr("Transcribed from the guide's image. Footnote: {footnote}",
                  footnote=tr(QUANT_TREE_FOOTNOTE)))
with st.container(key="tree_wide_learn_quant"):
    st.plotly_chart(tree_figure(QUANT_TREE), key="learn_quant_tree",
                    config={"displayModeBar": False})
with st.container(key="tree_words_learn_quant"):
    st.markdown(tree_in_words(QUANT_TREE))
layout.section(tr("The post-training decision tree"),
               tr("From the companion 'Post-training quantization' page."))
with st.container(key="tree_wide_learn_ptq"):
    st.plotly_chart(tree_figure(PTQ_TREE), key="learn_ptq_tree",
                    config={"displayModeBar": False})
with st.container(key="tree_words_learn_ptq"):
    st.markdown(tree_in_words(PTQ_TREE))

layout.section(tr("Table 1: benefits of quantization for some CNN models (published)"),
               tr("Source: {source}. N/A: not given in the guide.", source=table_1_source()))
quoted_table(published_table(), missing=tr("N/A"))

document = table1_measured()
layout.section(tr("Table 1 published beside measured here"),
               tr("The same architectures built with tf_keras (random weights: accuracy is not "
                  "meaningful, sizes and latency are) and converted by this project's pipeline "
                  "to float32 and post-training full integer (int8). –: not measured here "
                  "(`bench table1` builds the architectures listed in its module)."))
beside = measured_beside_table_1(document)
if beside is None:
    st.info(tr("Not measured yet: run `nice python -m optimizer bench table1` (minutes) to write "
               "assets/learn/table1_measured.json."), icon=":material/info:")
else:
    quoted_table(beside)
    versions = ", ".join(f"{k} {v}" for k, v in (document.get("versions") or {}).items() if v)
    host = next((r.get("measured_on") for r in document["rows"] if r.get("measured_on")), "?")
    st.caption(tr("Measured {date} on {host}; {versions}. Published latency is a Pixel 2's "
                  "single big core, measured latency this machine's CPU with {threads} "
                  "thread(s): compare ratios, not milliseconds. A speed-up is named only when "
                  "the p10–p90 intervals do not overlap; a busy shared machine widens them. "
                  "Regenerate: `{command}`.", date=document.get("date", "?"), host=render(host_words(host)),
                  versions=versions, threads=document["rows"][0].get("threads") or "?",
                  command=document.get("command", "")))

layout.section(tr("Table 2: accuracy with int16 activations (published)"),
               tr("Source: {source}. int16x8 runs on reference kernels by default, so it is "
                  "slower than int8 unless the hardware supports it.", source=table_2_source()))
quoted_table(published_table_2())
