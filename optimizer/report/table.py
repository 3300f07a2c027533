"""The results table against the baseline, ready to display (numbers stay numbers).

Columns carry their unit in the name so a screenshot is self-explanatory; percentages and
"x smaller" factors are computed from the measured bytes and metric values only.
"""
from __future__ import annotations

import math

from optimizer import numbers
from optimizer.report import style
from optimizer.report.readiness import readiness_cell

#: Display columns, in order (the page configures their number formats). The key columns
#: (technique to latency) come first so they fit a 1280-pixel screen without scrolling; the
#: Readiness column shows only once the target's readiness was checked.
KEY_COLUMNS = (
    "Technique", "Goals", "Readiness", "Accuracy", "Δ vs float32 (points)", "Size (kB)",
    "Size: x smaller", "Latency median", "Latency p10–p90",
)
COLUMNS = KEY_COLUMNS + (
    "95 % interval", "Δ 95 % interval", "p (paired test)", "Test samples",
    "Status", "gzip (kB)", "gzip: x smaller", "Threads", "Kernels",
    "I/O dtypes", "Engine", "Sparsity (%)", "Distinct weights / channel",
    "Transformed layers", "Weights transformed (%)", "Timed on", "Note",
)


def _num(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _spread(p10, p90) -> str:
    return numbers.ms_range(p10, p90) if _num(p10) is not None and _num(p90) is not None else ""


def _coverage_cell(r) -> str:
    """"12 of 15" weight layers the retraining transform wrapped ("" for other techniques)."""
    done, total = _num(r.get("transformed_layers")), _num(r.get("weight_layers"))
    return "" if done is None or total is None else f"{int(done)} of {int(total)}"


def timed_on(r) -> str:
    """Where a result ran and was timed: "ray · 10.0.0.5 (CPU model)"; "" when not recorded."""
    executor, node, cpu = (r.get(k) for k in ("executor", "node", "cpu"))
    where = " · ".join(str(v) for v in (executor, node) if isinstance(v, str) and v)
    return f"{where} ({cpu})" if where and isinstance(cpu, str) and cpu else where


def _goal_cell(check) -> str:
    """"✓ met", "✗ missed", "≈ within noise" or "… not checked" (``GoalCheck.cell``)."""
    return "" if check is None else check.cell


def metric_of(frame) -> str:
    """The metric of a results frame ("accuracy", "agreement" or "rmse")."""
    if "metric" in frame.columns and frame["metric"].notna().any():
        return str(frame["metric"].dropna().iloc[0])
    return "accuracy"


def places_of(frame) -> int:
    """The decimals every metric value and change of this table shares
    (``numbers.metric_places``: as many as the smallest change needs)."""
    deltas = [d for d, base in zip(frame["accuracy_delta"], frame.get("is_baseline", []))
              if not base] if "is_baseline" in frame.columns else list(frame["accuracy_delta"])
    samples = [s for s in frame["samples"] if numbers.finite(s)] if "samples" in frame else []
    return numbers.metric_places(list(frame["accuracy"]), deltas, metric_of(frame),
                                 max(samples) if samples else None)


def _rounded(value, decimals: int):
    value = _num(value)
    return None if value is None else round(value, decimals)


def metric_header(frame) -> tuple[str, float]:
    """(column title, scale) for the metric column: "Accuracy (%)", "Agreement (%)" or "RMSE"."""
    metric = metric_of(frame)
    _, scale, unit = style.metric_axis(metric)
    name = {"agreement": "Agreement", "rmse": "RMSE"}.get(metric, "Accuracy")
    return (f"{name} (%)" if unit == "%" else name), scale


def results_table(frame, checks: dict | None = None):
    """A display DataFrame with one row per result and the columns in ``COLUMNS``.

    ``checks`` maps technique -> ``GoalCheck`` (from ``Goals.check``) for the Goals column;
    the baseline's cell is "baseline". Sizes are kB (1 kB = 1,000 bytes); the change in
    accuracy is in percentage points (metric units x 100 for fraction metrics). Numbers are
    rounded as ``optimizer.numbers`` writes them (the metric and its change to the decimals
    the table shares, sizes and factors to three significant figures); intervals are text.
    """
    import pandas as pd

    checks = checks or {}
    metric_title, scale = metric_header(frame)
    metric, places = metric_of(frame), places_of(frame)
    rows = []
    for _, r in frame.iterrows():
        is_base = bool(r.get("is_baseline", False))
        acc, delta = _num(r["accuracy"]), _num(r["accuracy_delta"])
        ci = [r.get("accuracy_low"), r.get("accuracy_high")]
        delta_ci = [r.get("delta_low"), r.get("delta_high")]
        dtypes = ""
        if r["input_dtype"] or r["output_dtype"]:
            dtypes = f"{r['input_dtype'] or '?'} → {r['output_dtype'] or '?'}"
        sparsity = _num(r["sparsity"])
        rows.append({
            "Technique": style.result_name(r),
            "Status": r["status"],
            "Goals": "baseline" if is_base else _goal_cell(checks.get(r["technique"])),
            "Readiness": (readiness_cell(r.get("readiness"))
                          if isinstance(r.get("readiness"), dict) else ""),
            "Accuracy": None if acc is None else _rounded(acc * scale, places),
            "Δ vs float32 (points)": None if delta is None or is_base
            else _rounded(delta * scale, places),
            "95 % interval": "" if acc is None or None in map(_num, ci)
            else numbers.interval(ci, metric),
            "Δ 95 % interval": "" if is_base or None in map(_num, delta_ci)
            else numbers.points_range(delta_ci, metric),
            "p (paired test)": None if is_base else numbers.round_sig(r.get("delta_p"), 2),
            "Test samples": _num(r.get("samples")),
            "Size (kB)": None if _num(r["size_bytes"]) is None
            else numbers.round_sig(r["size_bytes"] / 1e3),
            "Size: x smaller": numbers.round_sig(r.get("size_ratio")),
            "gzip (kB)": None if _num(r["gzip_bytes"]) is None
            else numbers.round_sig(r["gzip_bytes"] / 1e3),
            "gzip: x smaller": numbers.round_sig(r.get("gzip_ratio")),
            "Latency median": numbers.ms(r["latency_ms_median"])
            if _num(r["latency_ms_median"]) is not None else "",
            "Latency p10–p90": _spread(r["latency_ms_p10"], r["latency_ms_p90"]),
            "Threads": _num(r["latency_threads"]),
            "Kernels": r["latency_kernels"] or "",
            "I/O dtypes": dtypes,
            "Engine": r["engine"] or "",
            "Sparsity (%)": None if sparsity is None else numbers.round_sig(100 * sparsity),
            "Distinct weights / channel": _num(r["max_unique_weights_per_channel"]),
            "Transformed layers": _coverage_cell(r),
            "Weights transformed (%)": (None if _num(r.get("transformed_weight_fraction")) is None
                                        else numbers.round_sig(
                                            100 * float(r["transformed_weight_fraction"]))),
            "Timed on": timed_on(r),
            "Note": r["error"] or "",
        })
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.rename(columns={"Accuracy": metric_title})


#: Short titles of the key columns in the compact table (it wraps instead of scrolling).
_KEY_TITLES = {"Δ vs float32 (points)": "Δ (points)", "Size (kB)": "Size",
               "Size: x smaller": "x smaller", "Latency median": "Latency",
               "Latency p10–p90": "p10–p90"}


def key_table(frame, checks: dict | None = None):
    """The key columns only, as text in the shared number format, for a table that must fit
    a projector (1280 px) or a phone (390 px) without scrolling sideways: the metric with its
    95 % interval ("98.444 (97.1–99.2)" in the decimals the changes need), the change with
    the paired test's p-value ("-0.222 (p = 1.0)")."""
    full = results_table(frame, checks)
    metric_title, _ = metric_header(frame)
    metric, places = metric_of(frame), places_of(frame)
    out = full[[metric_title if c == "Accuracy" else c for c in KEY_COLUMNS]].copy()
    out[metric_title] = [
        "" if _num(v) is None else numbers.metric_ci(v, [lo, hi], metric, places).replace(" %", "")
        for v, lo, hi in zip(frame["accuracy"], frame["accuracy_low"], frame["accuracy_high"])]
    out["Δ vs float32 (points)"] = [
        "" if _num(v) is None or base else numbers.change(v, metric)
        + ("" if _num(p) is None else f" ({numbers.p_value(p)})")
        for v, p, base in zip(frame["accuracy_delta"], frame["delta_p"], frame["is_baseline"])]
    out["Size (kB)"] = [numbers.size(b) if _num(b) is not None else "" for b in frame["size_bytes"]]
    out["Size: x smaller"] = out["Size: x smaller"].map(
        lambda v: "" if _num(v) is None else numbers.ratio(v))
    if not out["Readiness"].astype(str).str.strip().any():
        out = out.drop(columns=["Readiness"])
    return out.rename(columns=_KEY_TITLES)


#: Words stay whole (a technique spec, an identifier, may break where it must); on a phone
#: the p10–p90 column (also in the full table and the latency chart) gives way so the rest
#: fits 390 px: ``{spread}`` is that column's position.
_KEY_CSS = ("<style>.key-table{width:100%;border-collapse:collapse;font-size:0.9rem;"
            "margin:0.25rem 0 1rem}.key-table th,.key-table td{border:1px solid "
            "rgba(128,128,128,0.3);padding:0.3rem 0.45rem;text-align:right;vertical-align:top}"
            "table.key-table th,table.key-table td{overflow-wrap:break-word;word-break:normal;"
            "hyphens:manual}table.key-table td:first-child{overflow-wrap:anywhere}"
            ".key-table th{background:rgba(128,128,128,0.08);font-weight:600}"
            ".key-table td:first-child,.key-table th:first-child{text-align:left}"
            "@media (max-width:640px){.key-table{font-size:0.72rem}.key-table th,"
            ".key-table td{padding:0.2rem 0.15rem}"
            ".key-table tr>:nth-child({spread}){display:none}}</style>")
#: The column a phone leaves out.
_SPREAD = "p10–p90"


def key_table_html(frame, checks: dict | None = None) -> str:
    """``key_table`` as an HTML table (escaped) that wraps its cells instead of scrolling
    sideways: on a 390-pixel phone every key column but the p10–p90 spread stays on screen,
    and words break only between them (an over-long technique spec may break inside)."""
    import html

    table = key_table(frame, checks)
    columns = list(table.columns)
    spread = columns.index(_SPREAD) + 1 if _SPREAD in columns else 0
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    return (f"{_KEY_CSS.replace('{spread}', str(spread))}<table class='key-table' "
            f"data-testid='key-table'><thead><tr>{head}"
            f"</tr></thead><tbody>{body}</tbody></table>")
