"""The guide's published figures (Table 1), for context next to what this app measures.

These numbers are quoted from the LiteRT "Model optimization" guide, not measured here: the
app shows them only under a "published, Pixel 2" label. Latency was measured by the guide's
authors on a Pixel 2, single big CPU core.
"""
from __future__ import annotations

from optimizer.guide.registry import GUIDE

PUBLISHED_SOURCE = f"{GUIDE}, Table 1 (published; latency on a Pixel 2, single big CPU core)"

#: (model, top-1 original, top-1 PTQ, top-1 QAT, ms original, ms PTQ, ms QAT, MB original,
#: MB optimized) exactly as published; None where the guide says N/A.
TABLE_1 = (
    ("Mobilenet-v1-1-224", 0.709, 0.657, 0.70, 124, 112, 64, 16.9, 4.3),
    ("Mobilenet-v2-1-224", 0.719, 0.637, 0.709, 89, 98, 54, 14, 3.6),
    ("Inception_v3", 0.78, 0.772, 0.775, 1130, 845, 543, 95.7, 23.9),
    ("Resnet_v2_101", 0.770, 0.768, None, 3973, 2868, None, 178.3, 44.9),
)


def published_table():
    """Table 1 as a DataFrame with units in the column names (published, not measured)."""
    import pandas as pd

    columns = ["Model", "Top-1 float", "Top-1 post-training quantized",
               "Top-1 quantization-aware training", "Latency float (ms, Pixel 2)",
               "Latency PTQ (ms, Pixel 2)", "Latency QAT (ms, Pixel 2)", "Size float (MB)",
               "Size optimized (MB)"]
    return pd.DataFrame(TABLE_1, columns=columns)
