"""The Results page's "Ready for your target?" section: a button that runs the checks, the
per-variant table and one detail table per variant (all built by the library)."""
from __future__ import annotations

import streamlit as st

from optimizer import TARGETS, Target, check_variants, numbers
from optimizer.measuring.readiness.report import shown_summary
from optimizer.report import readiness_ops, readiness_rows
from optimizer.text import tr
from pages.common import layout, state
from pages.common.table import MISSING, localized

_num = st.column_config.NumberColumn


def _columns() -> dict:
    """The readiness table's column formats, keyed by its column names in the language in use
    (number columns arrive as text where the language writes a decimal comma: ``localized``)."""
    text = st.column_config.TextColumn
    english = numbers.separators() == numbers.ENGLISH

    def number(label):
        return _num(label, format="plain") if english else text(label)

    # rounded as optimizer.numbers writes them (report.readiness_rows); kB of 1,024 bytes
    return {tr("Summary"): text(tr("Summary"), width="large"),
            tr("Arena (kB)"): number(tr("Arena (kB)")),
            tr("Flash (kB)"): number(tr("Flash (kB)")),
            tr("Target runtime metric (%)"): number(tr("TFLite Micro metric (%)")),
            tr("LiteRT metric (%)"): number(tr("LiteRT metric (%)"))}


def render(results, target, budget, data, key: str, read_only: bool = False) -> None:
    """Show the readiness of ``results`` (already read from the cache) on ``target``; a
    ``read_only`` page (a share link's viewer) shows what was checked and offers no check."""
    info = TARGETS[Target(target)]
    label = tr(info.label)
    how = {"rules": tr("How it is checked: rules (documented requirements read from the file, "
                       "not a compile). A variant that is not ready never counts as meeting "
                       "your goals."),
           "interpreted": tr("How it is checked: interpreted. A variant that is not ready never "
                             "counts as meeting your goals."),
           "compiled": tr("How it is checked: compiled. A variant that is not ready never "
                          "counts as meeting your goals."),
           "partitioned": tr("How it is checked: partitioned. A variant that is not ready "
                             "never counts as meeting your goals.")}
    layout.section(tr("Ready for {target}?", target=label),
                   how.get(info.readiness) or tr(
                       "How it is checked: {method}. A variant that is not ready never counts "
                       "as meeting your goals.", method=info.readiness))
    missing = [r for r in results if r.ok and r.tflite_path and r.readiness is None]
    if missing and read_only:
        st.caption(tr("{count} variants are not checked for {target} yet; copy the run into "
                      "your workspace to check them.", count=len(missing), target=label))
    elif missing and st.button(tr("Check readiness on {target} ({count} variants)",
                                  target=label, count=len(missing)),
                               icon=":material/memory:", key=f"{key}_check"):
        with st.spinner(tr("Checking {count} variants on {target}…", count=len(missing),
                           target=label)):
            try:
                check_variants(results, target, budget=budget, data=data,
                               workspace=state.get(state.SESSION_ID))
            except ValueError as exc:      # access.ReadOnly: not this workspace's run
                layout.show_error(exc, tr("Checking readiness"))
                return
        st.rerun()
    if info.needs_setup:
        st.caption(tr("This check needs `{setup}` on the server (opt-in).",
                      setup=info.needs_setup))
    st.dataframe(localized(readiness_rows(results), 3), hide_index=True, width="stretch",
                 column_config=_columns(), key=f"{key}_table", placeholder=MISSING)
    for result in results:
        verdict = result.readiness or {}
        if not verdict.get("ops"):
            continue
        with st.expander(tr("**{technique}**: ops on {target}", technique=result.technique,
                            target=label)):
            st.caption(shown_summary(verdict))
            st.dataframe(readiness_ops(verdict), hide_index=True, width="stretch",
                         placeholder=MISSING)
