"""Column formats of the Results table (the columns and their rounding come from
``optimizer.report.table``: the numbers arrive rounded as ``optimizer.numbers`` writes them, so
the sortable columns show them plainly; the metric and its change share ``places`` decimals),
what a missing value reads as, and the quoted tables of the guide."""
import streamlit as st

from optimizer import numbers
from optimizer.text import tr

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
_text = st.column_config.TextColumn


def column_config(places: int) -> dict:
    """The column configuration for a table whose metric values and changes have ``places``
    decimals (``optimizer.report.table.places_of``), keyed by the column names in the language
    in use. Where the language writes a decimal comma the number columns arrive as text
    (``localized``), so they are text columns there."""
    metric = f"%.{int(places)}f"
    english = numbers.separators() == numbers.ENGLISH
    num = _num if english else (lambda label, format=None, **kw: _text(label, **kw))
    columns = {
        "Technique": _text(tr("Technique"), pinned=True),
        "Goals": _text(tr("Goals"), width="small"),
        "Accuracy (%)": num(tr("Accuracy (%)"), format=metric),
        "Agreement (%)": num(tr("Agreement (%)"), format=metric),
        "RMSE": num("RMSE", format=metric),
        "Δ vs float32 (points)": num(tr("Δ (points)"), format=f"%+.{int(places)}f",
                                     help=tr("Change against float32 in percentage points")),
        "95 % interval": _text(tr("95 % interval"),
                               help=tr("Wilson interval (bootstrap for RMSE)")),
        "Δ 95 % interval": _text(tr("Δ 95 % interval"),
                                 help=tr("The change's interval from the paired comparison "
                                         "with float32 on the same test samples")),
        "p (paired test)": num(tr("p (paired test)"), format="plain",
                               help=tr("Exact McNemar test (paired bootstrap for RMSE) against "
                                       "float32: below 0.05 the change is measurable")),
        "Test samples": num(tr("Test samples"), format="%d"),
        "Size (kB)": num(tr("Size (kB)"), format="plain"),
        "Size: x smaller": num(tr("x smaller"), format="plain",
                               help=tr("float32 bytes / these bytes")),
        "gzip (kB)": num(tr("gzip (kB)"), format="plain"),
        "gzip: x smaller": num(tr("gzip: x smaller"), format="plain"),
        "Latency median": _text(tr("Latency median"), help=tr("µs below 0.1 ms")),
        "Threads": num(tr("Threads"), format="%d"),
        "Sparsity (%)": num(tr("Sparsity (%)"), format="plain"),
        "Distinct weights / channel": num(tr("Distinct weights / channel"), format="%d"),
        "Transformed layers": _text(
            tr("Transformed layers"), help=tr("weight layers the retraining transform wrapped, "
                                              "of all layers holding weights; the notes name "
                                              "the layers left alone and why")),
        "Weights transformed (%)": num(tr("Weights transformed (%)"), format="plain"),
        "Note": _text(tr("Note"), width="large"),
    }
    return {tr(name): config for name, config in columns.items()}


#: Columns whose numbers share the table's metric decimals, and whole-number columns.
_METRIC_COLUMNS = ("Accuracy (%)", "Agreement (%)", "RMSE", "Δ vs float32 (points)")
_COUNT_COLUMNS = ("Test samples", "Threads", "Distinct weights / channel")


def localized(table, places: int):
    """``table`` (column names in the language in use) with its number columns written as the
    language writes numbers (``optimizer.numbers``), as text, where that is not the English
    way; unchanged in English (numbers stay numbers, sortable as such)."""
    if numbers.separators() == numbers.ENGLISH:
        return table
    out = table.copy()
    for name in out.columns:
        english = next((c for c in (*_METRIC_COLUMNS, *_COUNT_COLUMNS, "p (paired test)",
                                    "Size (kB)", "Size: x smaller", "gzip (kB)",
                                    "gzip: x smaller", "Sparsity (%)", "Weights transformed (%)",
                                    "Arena (kB)", "Flash (kB)", "Target runtime metric (%)",
                                    "LiteRT metric (%)") if tr(c) == name), None)
        if english is None:
            continue
        if english in _METRIC_COLUMNS:
            signed = english.startswith("Δ")
            write = (lambda v, signed=signed: ("+" if signed and v > 0 else "")
                     + numbers.fixed(v, places))
        elif english in _COUNT_COLUMNS:
            write = numbers.count
        else:        # rounded already: as short as it is, thousands grouped
            write = (lambda v: numbers.sig(v, 6) if abs(v) >= 1000 else numbers.plain(v))
        out[name] = [None if numbers.finite(v) is None else write(v) for v in out[name]]
    return out
