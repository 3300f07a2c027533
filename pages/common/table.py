"""Column formats of the Results table (the columns come from ``optimizer.report.table``), what
a missing value reads as, and the quoted tables of the guide."""
import streamlit as st

#: What a table shows for a value that is not there (every ``st.dataframe``'s placeholder):
#: never "None"; the caption beside the table says why it is missing.
MISSING = "–"


def quoted_table(frame, missing: str = MISSING) -> None:
    """A table of figures quoted from the guide (and measured ones beside them) that wraps
    to the page's width instead of scrolling sideways: numbers as quoted, a missing one as
    ``missing``."""
    text = frame.astype(object).where(frame.notna() & (frame != ""), missing)
    st.table(text.map(lambda v: f"{v:g}" if isinstance(v, (int, float)) else str(v)),
             hide_index=True)

_num = st.column_config.NumberColumn

COLUMN_CONFIG = {
    "Technique": st.column_config.TextColumn("Technique", pinned=True),
    "Goals": st.column_config.TextColumn("Goals", width="small"),
    "Accuracy (%)": _num("Accuracy (%)", format="%.2f"),
    "Agreement (%)": _num("Agreement (%)", format="%.2f"),
    "RMSE": _num("RMSE", format="%.4g"),
    "Δ vs float32 (points)": _num("Δ (points)", format="%+.2f",
                                  help="Change against float32 in percentage points"),
    "Size (kB)": _num("Size (kB)", format="%.1f"),
    "Size: x smaller": _num("x smaller", format="%.2fx", help="float32 bytes / these bytes"),
    "gzip (kB)": _num("gzip (kB)", format="%.1f"),
    "gzip: x smaller": _num("gzip: x smaller", format="%.2fx"),
    "Latency median": st.column_config.TextColumn("Latency median", help="µs below 0.1 ms"),
    "Threads": _num("Threads", format="%d"),
    "Sparsity (%)": _num("Sparsity (%)", format="%.1f"),
    "Distinct weights / channel": _num("Distinct weights / channel", format="%d"),
    "Transformed layers": st.column_config.TextColumn(
        "Transformed layers", help="weight layers the retraining transform wrapped, of all "
        "layers holding weights; the notes name the layers left alone and why"),
    "Weights transformed (%)": _num("Weights transformed (%)", format="%.0f"),
    "Note": st.column_config.TextColumn("Note", width="large"),
}
