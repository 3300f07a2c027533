"""The Results page's "Ready for your target?" section: a button that runs the checks, the
per-variant table and one detail table per variant (all built by the library)."""
from __future__ import annotations

import streamlit as st

from optimizer import TARGETS, Target, check_variants
from optimizer.report import readiness_ops, readiness_rows
from pages.common import layout, state
from pages.common.table import MISSING

_num = st.column_config.NumberColumn
COLUMNS = {
    "Summary": st.column_config.TextColumn("Summary", width="large"),
    # rounded as optimizer.numbers writes them (report.readiness_rows); kB of 1,024 bytes
    "Arena (kB)": _num("Arena (kB)", format="plain"),
    "Flash (kB)": _num("Flash (kB)", format="plain"),
    "Target runtime metric (%)": _num("TFLite Micro metric (%)", format="plain"),
    "LiteRT metric (%)": _num("LiteRT metric (%)", format="plain"),
}


def render(results, target, budget, data, key: str, read_only: bool = False) -> None:
    """Show the readiness of ``results`` (already read from the cache) on ``target``; a
    ``read_only`` page (a share link's viewer) shows what was checked and offers no check."""
    info = TARGETS[Target(target)]
    layout.section(f"Ready for {info.label}?",
                   f"How it is checked: {info.readiness}"
                   + (" (documented requirements read from the file, not a compile)"
                      if info.readiness == "rules" else "")
                   + ". A variant that is not ready never counts as meeting your goals.")
    missing = [r for r in results if r.ok and r.tflite_path and r.readiness is None]
    if missing and read_only:
        st.caption(f"{len(missing)} variants are not checked for {info.label} yet; copy the run "
                   "into your workspace to check them.")
    elif missing and st.button(f"Check readiness on {info.label} ({len(missing)} variants)",
                               icon=":material/memory:", key=f"{key}_check"):
        with st.spinner(f"Checking {len(missing)} variants on {info.label}…"):
            try:
                check_variants(results, target, budget=budget, data=data,
                               workspace=state.get(state.SESSION_ID))
            except ValueError as exc:      # access.ReadOnly: not this workspace's run
                layout.show_error(exc, "Checking readiness")
                return
        st.rerun()
    if info.needs_setup:
        st.caption(f"This check needs `{info.needs_setup}` on the server (opt-in).")
    st.dataframe(readiness_rows(results), hide_index=True, width="stretch",
                 column_config=COLUMNS, key=f"{key}_table", placeholder=MISSING)
    for result in results:
        verdict = result.readiness or {}
        if not verdict.get("ops"):
            continue
        with st.expander(f"**{result.technique}**: ops on {info.label}"):
            st.caption(verdict.get("summary", ""))
            st.dataframe(readiness_ops(verdict), hide_index=True, width="stretch",
                         placeholder=MISSING)
