"""Honest notes next to the numbers, derived only from what a run measured.

Each rule looks at measured values (sizes, medians, spreads, kernels, notes) and says what
they mean for a workshop audience: e.g. when an int8 file is not faster than float32 here,
it says so instead of repeating the guide's promise. A rule that lacks a measurement stays
silent; nothing is estimated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from optimizer.guide.registry import QAT_FAMILY, TechniqueId, parse_spec
from optimizer.guide.schema import Result

#: p90 - p10 wider than this fraction of the median is called noisy.
NOISY_SPREAD = 0.5
#: Raw sizes within this fraction of the baseline count as "the same size on disk".
SAME_SIZE = 0.02

_INT8_COMPUTE = {TechniqueId.INTEGER, TechniqueId.INTEGER_ONLY}


@dataclass(frozen=True)
class Insight:
    """One note: the technique it is about (None for the whole run), its kind and the text.

    ``severity`` is "info" (context) or "warning" (a number that needs care: noisy, slower,
    failed).
    """

    technique: str | None
    kind: str
    text: str
    severity: str = "info"


def _num(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _kb(nbytes) -> str:
    return f"{nbytes / 1e6:,.2f} MB" if nbytes >= 1e6 else f"{nbytes / 1e3:,.1f} kB"


def _spec(technique: str):
    try:
        return parse_spec(technique)
    except ValueError:
        return None


def _as_result(item) -> Result:
    return item if isinstance(item, Result) else Result.from_dict(dict(item))


def _latency_notes(r: Result, base: Result, spec) -> list[Insight]:
    notes = []
    median, base_median = _num(r.latency_ms_median), _num(base.latency_ms_median)
    if median is None or base_median is None:
        return notes
    int8 = spec is not None and (spec.conversion in _INT8_COMPUTE or spec.base in QAT_FAMILY)
    if int8 and median >= base_median and spec.conversion != TechniqueId.INT16X8:
        notes.append(Insight(r.technique, "int8-not-faster", (
            f"Measured here, int8 is not faster: median {median:.3f} ms vs float32's "
            f"{base_median:.3f} ms. For a model this small XNNPACK runs float32 as fast as int8 "
            "on this CPU; int8's speed-up needs bigger models or integer hardware."),
            "warning"))
    elif spec is not None and spec.conversion == TechniqueId.DYNAMIC_RANGE \
            and median >= base_median:
        notes.append(Insight(r.technique, "dynamic-not-faster", (
            f"Dynamic range is not faster here: median {median:.3f} ms vs float32's "
            f"{base_median:.3f} ms. It quantizes activations on the fly, which costs more "
            "than it saves on a model this small."), "warning"))
    elif spec is not None and spec.conversion == TechniqueId.FLOAT16 and median >= base_median:
        notes.append(Insight(r.technique, "float16-cpu", (
            f"float16 halves the weights but computes in float32 on a CPU, so it is not faster "
            f"here ({median:.3f} ms vs {base_median:.3f} ms); its speed-up is on GPU delegates.")))
    if spec is not None and spec.conversion == TechniqueId.INT16X8 and median > base_median:
        # the timing process's own note (if any) already names the kernels
        why = "" if r.latency_note else (": only reference kernels exist for int16 "
                                         "activations, as the guide warns")
        notes.append(Insight(r.technique, "int16x8-slow", (
            f"int16x8 is {median / base_median:.0f}x slower than float32 here "
            f"({median:.3f} ms vs {base_median:.3f} ms){why}."), "warning"))
    return notes


def _size_notes(r: Result, base: Result, spec) -> list[Insight]:
    raw, gz = _num(r.size_bytes), _num(r.gzip_bytes)
    b_raw, b_gz = _num(base.size_bytes), _num(base.gzip_bytes)
    if None in (raw, gz, b_raw, b_gz) or spec is None:
        return []
    if spec.base not in (TechniqueId.PRUNING, TechniqueId.CLUSTERING) \
            or spec.conversion != TechniqueId.FLOAT32:
        return []
    if abs(raw - b_raw) > SAME_SIZE * b_raw or gz >= b_gz:
        return []
    what = "Pruning" if spec.base == TechniqueId.PRUNING else "Clustering"
    extra = ""
    if spec.base == TechniqueId.PRUNING and _num(r.sparsity) is not None:
        extra = f" (measured sparsity {100 * r.sparsity:.0f}%)"
    elif r.max_unique_weights_per_channel:
        extra = f" (at most {r.max_unique_weights_per_channel} distinct weights per channel)"
    return [Insight(r.technique, "compressed-only", (
        f"{what} helps only the compressed size{extra}: {_kb(raw)} on disk, the same as "
        f"float32, but {_kb(gz)} gzipped, {b_gz / gz:.1f}x smaller than float32's "
        f"{_kb(b_gz)}. Add a post-training quantization to shrink the file itself."))]


def _noise_note(r: Result) -> list[Insight]:
    median, p10, p90 = (_num(r.latency_ms_median), _num(r.latency_ms_p10),
                        _num(r.latency_ms_p90))
    if None in (median, p10, p90) or median <= 0:
        return []
    if (p90 - p10) / median <= NOISY_SPREAD:
        return []
    return [Insight(r.technique, "noisy", (
        f"Timings are noisy: p10–p90 spans {p10:.3f}–{p90:.3f} ms around a median of "
        f"{median:.3f} ms; differences smaller than that are not meaningful."), "warning")]


def result_insights(results) -> list[Insight]:
    """Notes for every result of a run (``Result`` objects or dicts), baseline first.

    Covers: where it was measured; failures with their message; int8 / dynamic range /
    float16 not faster than float32; int16x8 reference kernels (and any latency note the
    timing process recorded); pruning/clustering helping only compressed size; noisy timings.
    """
    rows = [_as_result(r) for r in results]
    notes: list[Insight] = []
    hosts = sorted({r.measured_on for r in rows if r.measured_on})
    if hosts:
        notes.append(Insight(None, "measured-on", "Measured on " + "; ".join(hosts) + "."))
    nodes = sorted({r.node for r in rows if r.ok and r.node})
    if len(nodes) > 1:
        notes.append(Insight(None, "mixed-nodes",
                             f"These results were timed on different nodes ({', '.join(nodes)}):"
                             " their latencies are not comparable with each other (size and "
                             "accuracy do not depend on the node). Time them again in one run "
                             "to compare speed.", "warning"))
    base = next((r for r in rows if r.technique == TechniqueId.FLOAT32.value and r.ok), None)
    for r in rows:
        if not r.ok:
            notes.append(Insight(r.technique, "failed",
                                 f"{r.status}: {r.error or 'no message recorded'}", "warning"))
            continue
        spec = _spec(r.technique)
        if base is not None and r is not base:
            notes.extend(_latency_notes(r, base, spec))
            notes.extend(_size_notes(r, base, spec))
        if r.latency_note:
            notes.append(Insight(r.technique, "latency-note", r.latency_note, "warning"))
        notes.extend(_noise_note(r))
    return notes


def insights_for(notes, technique: str | None) -> list[Insight]:
    """The notes about one technique (or the run-wide ones with ``technique=None``)."""
    return [n for n in notes if n.technique == technique]
