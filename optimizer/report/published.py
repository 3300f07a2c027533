"""The guide's published figures (Table 1), for context next to what this app measures.

These numbers are quoted from the LiteRT "Model optimization" guide, not measured here: the
app shows them only under a "published, Pixel 2" label. Latency was measured by the guide's
authors on a Pixel 2, single big CPU core.
"""
from __future__ import annotations

from optimizer.guide.registry import GUIDE
from optimizer.text import N_, tr

PUBLISHED_SOURCE = f"{GUIDE}, Table 1 (published; latency on a Pixel 2, single big CPU core)"


def table_1_source() -> str:
    """``PUBLISHED_SOURCE`` in the language in use."""
    return tr("{guide}, Table 1 (published; latency on a Pixel 2, single big CPU core)",
              guide=tr(GUIDE))


def table_2_source() -> str:
    """``TABLE_2_SOURCE`` in the language in use."""
    return tr("{guide}, Table 2 (published; int16 activations with int8 weights)",
              guide=tr(GUIDE))

#: (model, top-1 original, top-1 PTQ, top-1 QAT, ms original, ms PTQ, ms QAT, MB original,
#: MB optimized) exactly as published; None where the guide says N/A.
TABLE_1 = (
    ("Mobilenet-v1-1-224", 0.709, 0.657, 0.70, 124, 112, 64, 16.9, 4.3),
    ("Mobilenet-v2-1-224", 0.719, 0.637, 0.709, 89, 98, 54, 14, 3.6),
    ("Inception_v3", 0.78, 0.772, 0.775, 1130, 845, 543, 95.7, 23.9),
    ("Resnet_v2_101", 0.770, 0.768, None, 3973, 2868, None, 178.3, 44.9),
)


#: Table 1's column names (in the language in use: the Vietnamese ones are the Vietnamese
#: guide's own).
TABLE_1_COLUMNS = (N_("Model"), N_("Top-1 float"), N_("Top-1 post-training quantized"),
                   N_("Top-1 quantization-aware training"), N_("Latency float (ms, Pixel 2)"),
                   N_("Latency PTQ (ms, Pixel 2)"), N_("Latency QAT (ms, Pixel 2)"),
                   N_("Size float (MB)"), N_("Size optimized (MB)"))


def published_table():
    """Table 1 as a DataFrame with units in the column names (published, not measured)."""
    import pandas as pd

    return pd.DataFrame(TABLE_1, columns=[tr(c) for c in TABLE_1_COLUMNS])


TABLE_2_SOURCE = f"{GUIDE}, Table 2 (published; int16 activations with int8 weights)"

#: (model, metric, float32 activations, int8 activations, int16 activations) as published.
TABLE_2 = (
    ("Wav2letter", "WER", "6.7%", "7.7%", "7.2%"),
    ("DeepSpeech 0.5.1 (unrolled)", "CER", "6.13%", "43.67%", "6.52%"),
    ("YoloV3", "mAP(IOU=0.5)", "0.577", "0.563", "0.574"),
    ("MobileNetV1", "Top-1", "0.7062", "0.694", "0.6936"),
    ("MobileNetV2", "Top-1", "0.718", "0.7126", "0.7137"),
    ("MobileBert", "F1 (exact match)", "88.81 (81.23)", "2.08 (0)", "88.73 (81.15)"),
)


#: Table 2's words that the Vietnamese guide writes in Vietnamese (the rest are names).
TABLE_2_WORDS = (N_("DeepSpeech 0.5.1 (unrolled)"), N_("Top-1"), N_("F1 (exact match)"))
TABLE_2_COLUMNS = (N_("Model"), N_("Metric"), N_("float32 activations"), N_("int8 activations"),
                   N_("int16 activations"))


def published_table_2():
    """Table 2 (accuracy with int16 activations) as a DataFrame, exactly as published (in
    the language in use: the Vietnamese guide's words)."""
    import pandas as pd

    rows = [tuple(tr(v) if v in TABLE_2_WORDS else v for v in row) for row in TABLE_2]
    return pd.DataFrame(rows, columns=[tr(c) for c in TABLE_2_COLUMNS])


def measured_beside_table_1(document: dict | None):
    """Table 1's size and latency columns (published, Pixel 2) beside this project's own
    measurement of the same architectures (``assets/learn/table1_measured.json``: random
    weights, this machine's CPU). Rows the measurement lacks show blanks; None without one."""
    import pandas as pd

    from optimizer.report import numbers

    if not document or not document.get("rows"):
        return None
    measured = {r["model"]: r for r in document["rows"]}
    rows = []
    for name, *_acc, ms_f, ms_ptq, _ms_qat, mb_f, mb_opt in TABLE_1:
        m = measured.get(name, {})
        f_ms, i_ms = m.get("float32_latency_ms_median"), m.get("int8_latency_ms_median")
        f_lo, f_hi = m.get("float32_latency_ms_p10"), m.get("float32_latency_ms_p90")
        i_lo, i_hi = m.get("int8_latency_ms_p10"), m.get("int8_latency_ms_p90")
        f_b, i_b = m.get("float32_bytes"), m.get("int8_bytes")
        speedup = ""
        if f_ms and i_ms:
            speedup = numbers.ratio(f_ms / i_ms)
            if None not in (f_lo, f_hi, i_lo, i_hi) and not (i_hi < f_lo or i_lo > f_hi):
                speedup = tr("not meaningful: p10–p90 overlap (medians {ratio})", ratio=speedup)

        def _latency(median, low, high):
            if not median:
                return ""
            spread = f" ({numbers.ms_range(low, high)})" if None not in (low, high) else ""
            return numbers.ms(median) + spread

        rows.append({
            tr("Model"): name,
            tr("Size float (MB), published"): mb_f,
            tr("Size float (MB), measured"): None if f_b is None else round(f_b / 1e6, 2),
            tr("Size int8 (MB), published"): mb_opt,
            tr("Size int8 (MB), measured"): None if i_b is None else round(i_b / 1e6, 2),
            tr("Float / PTQ latency, published (Pixel 2)"): f"{ms_f} / {ms_ptq} ms",
            tr("Float latency, measured (p10–p90)"): _latency(f_ms, f_lo, f_hi),
            tr("int8 latency, measured (p10–p90)"): _latency(i_ms, i_lo, i_hi),
            tr("int8 speed-up, measured"): speedup,
        })
    return pd.DataFrame(rows)


def table1_measured() -> dict | None:
    """This project's measurement of Table 1's architectures (``python -m optimizer bench
    table1`` writes it to ``assets/learn/table1_measured.json``), or None before it ran."""
    import json

    from optimizer import paths

    try:
        return json.loads((paths.ASSETS / "learn" / "table1_measured.json").read_text())
    except (OSError, ValueError):
        return None


#: The guide's quantization table, row by row (the registry's technique ids, in its order).
GUIDE_TABLE_ROWS = ("float16", "dynamic_range", "integer", "qat")


def guide_techniques_table():
    """The guide's quantization techniques table (data, size reduction, accuracy, hardware)
    as the registry quotes it, each technique named as the guide's table (and tree) names it,
    in the language in use."""
    import pandas as pd

    from optimizer.guide.registry import DATA_LABELS, TECHNIQUES, TechniqueId
    from optimizer.recommendation.tree import QUANT_TREE

    names = {leaf.technique: leaf.text for leaf in QUANT_TREE.leaves}
    rows = []
    for tid in map(TechniqueId, GUIDE_TABLE_ROWS):
        info = TECHNIQUES[tid]
        rows.append({tr("Technique"): tr(names.get(tid, info.title)),
                     tr("Data requirements"): tr(DATA_LABELS[info.data]),
                     tr("Size reduction"): tr(info.guide_size),
                     tr("Accuracy"): tr(info.guide_accuracy),
                     tr("Supported hardware"): tr(info.guide_hardware)})
    return pd.DataFrame(rows)
