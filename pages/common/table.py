"""Column formats of the Results table (the columns and their rounding come from
``optimizer.report.table``: the numbers arrive rounded as ``optimizer.numbers`` writes them, so
the sortable columns show them plainly; the metric and its change share ``places`` decimals),
what a missing value reads as, and the quoted tables of the guide."""
import streamlit as st

from optimizer import numbers

#: What a table shows for a value that is not there (every ``st.dataframe``'s placeholder):
#: never "None"; the caption beside the table says why it is missing.
MISSING = "–"


def quoted_table(frame, missing: str = MISSING) -> None:
    """A table of figures quoted from the guide (and measured ones beside them) that wraps
    to the page's width instead of scrolling sideways: numbers as quoted, a missing one as
    ``missing``."""
    text = frame.astype(object).where(frame.notna() & (frame != ""), missing)
    st.table(text.map(lambda v: numbers.plain(v) if isinstance(v, (int, float)) else str(v)),
             hide_index=True)


_num = st.column_config.NumberColumn


def column_config(places: int) -> dict:
    """The column configuration for a table whose metric values and changes have ``places``
    decimals (``optimizer.report.table.places_of``)."""
    metric = f"%.{int(places)}f"
    return {
        "Technique": st.column_config.TextColumn("Technique", pinned=True),
        "Goals": st.column_config.TextColumn("Goals", width="small"),
        "Accuracy (%)": _num("Accuracy (%)", format=metric),
        "Agreement (%)": _num("Agreement (%)", format=metric),
        "RMSE": _num("RMSE", format=metric),
        "Δ vs float32 (points)": _num("Δ (points)", format=f"%+.{int(places)}f",
                                      help="Change against float32 in percentage points"),
        "95 % interval": st.column_config.TextColumn("95 % interval",
                                                     help="Wilson interval (bootstrap for RMSE)"),
        "Δ 95 % interval": st.column_config.TextColumn(
            "Δ 95 % interval", help="The change's interval from the paired comparison with "
                                    "float32 on the same test samples"),
        "p (paired test)": _num("p (paired test)", format="plain",
                                help="Exact McNemar test (paired bootstrap for RMSE) against "
                                     "float32: below 0.05 the change is measurable"),
        "Test samples": _num("Test samples", format="%d"),
        "Size (kB)": _num("Size (kB)", format="plain"),
        "Size: x smaller": _num("x smaller", format="plain", help="float32 bytes / these bytes"),
        "gzip (kB)": _num("gzip (kB)", format="plain"),
        "gzip: x smaller": _num("gzip: x smaller", format="plain"),
        "Latency median": st.column_config.TextColumn("Latency median", help="µs below 0.1 ms"),
        "Threads": _num("Threads", format="%d"),
        "Sparsity (%)": _num("Sparsity (%)", format="plain"),
        "Distinct weights / channel": _num("Distinct weights / channel", format="%d"),
        "Transformed layers": st.column_config.TextColumn(
            "Transformed layers", help="weight layers the retraining transform wrapped, of all "
            "layers holding weights; the notes name the layers left alone and why"),
        "Weights transformed (%)": _num("Weights transformed (%)", format="plain"),
        "Note": st.column_config.TextColumn("Note", width="large"),
    }
