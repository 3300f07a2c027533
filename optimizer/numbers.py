"""How every number is written for people: the one number format of the app, the report, the
CLI and the search.

Three significant figures; latency in µs below 0.1 ms; sizes in B/kB/MB (1 kB = 1,000 bytes);
accuracy in percent with as many decimals as the deltas beside it need (``metric_places``), so
"98.7 vs 98.4, Δ -0.222" never happens (it is "98.667 vs 98.444, Δ -0.222"); intervals in the
same places as their value; p-values with two significant figures.

The separators come from one place (``separators()``, a per-context setting, English by
default): ``use_separators(decimal=",", thousands=".")`` writes every number of a block with a
decimal comma. Axis ticks built for plotly are numbers; only their labels are text from here.
"""
from __future__ import annotations

import contextvars
import math
from contextlib import contextmanager
from dataclasses import dataclass

#: Below this many milliseconds a latency is written in microseconds.
MICRO_BELOW_MS = 0.1
#: Metrics stored as fractions in [0, 1]; shown in percent, their changes in points.
PERCENT_METRICS = frozenset({"accuracy", "agreement"})
#: The most decimals an accuracy is ever given (1 sample in 100,000 still shows).
MAX_PLACES = 4
#: What is written for a value that was not measured.
MISSING = "–"


@dataclass(frozen=True)
class Separators:
    """The decimal mark and the thousands separator every formatter writes."""

    decimal: str = "."
    thousands: str = ","


ENGLISH = Separators()
_SEPARATORS: contextvars.ContextVar[Separators] = contextvars.ContextVar("separators",
                                                                        default=ENGLISH)


def separators() -> Separators:
    """The separators in use in this context (English unless ``use_separators`` says)."""
    return _SEPARATORS.get()


@contextmanager
def use_separators(decimal: str = ".", thousands: str = ","):
    """Write every number inside the ``with`` block with these separators."""
    token = _SEPARATORS.set(Separators(decimal, thousands))
    try:
        yield
    finally:
        _SEPARATORS.reset(token)


def _local(text: str) -> str:
    """``text`` written with Python's "," and "." turned into this context's separators."""
    sep = separators()
    if sep == ENGLISH:
        return text
    return "".join(sep.thousands if c == "," else sep.decimal if c == "." else c for c in text)


def finite(value) -> float | None:
    """``value`` as a float, or None when it is missing, not a number or not finite."""
    if isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def places(value, digits: int = 3) -> int:
    """The decimals ``value`` needs for ``digits`` significant figures (0 for big numbers)."""
    value = finite(value)
    if value is None or value == 0:
        return 0
    return max(0, digits - 1 - math.floor(math.log10(abs(value))))


def needed_places(value, digits: int = 3) -> int:
    """The decimals ``value`` needs to be written exactly at ``digits`` significant figures,
    without trailing zeros: 0.2222 -> 3, 0.7 -> 1, 98.6667 -> 1, 12 -> 0."""
    value = finite(value)
    count_ = places(value, digits)
    if value is None:
        return count_
    exact = round(value, count_)
    while count_ > 0 and round(value, count_ - 1) == exact:
        count_ -= 1
    return count_


def round_sig(value, digits: int = 3) -> float | None:
    """``value`` rounded to ``digits`` significant figures, as a number (for sortable table
    columns; their text is the same as ``sig``'s)."""
    value = finite(value)
    if value is None:
        return None
    if value == 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _sig_text(value: float, digits: int) -> str:
    if value == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    if decimals <= 0:
        return f"{round(value, decimals):,.0f}"
    text = f"{value:.{decimals}f}"
    # rounding can add a digit (9.995 -> "10.00"): drop the extra decimal
    if len(text.replace("-", "").replace(".", "").lstrip("0")) > digits:
        text = f"{value:.{decimals - 1}f}"
    return text


def sig(value, digits: int = 3) -> str:
    """``value`` with ``digits`` significant figures, never in exponent form: 0.000412 ->
    "0.000412", 4.6862 -> "4.69", 1130.4 -> "1,130", 0 -> "0"; "–" when missing."""
    value = finite(value)
    return MISSING if value is None else _local(_sig_text(value, digits))


def fixed(value, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals and thousands separators: (98.6667, 3) ->
    "98.667"; "–" when missing."""
    value = finite(value)
    if value is None:
        return MISSING
    text = f"{value:,.{max(0, int(decimals))}f}"
    return _local("0" + text[2:] if text.startswith("-0") and float(text) == 0 else text)


def count(value) -> str:
    """A whole number with thousands separators: 20000 -> "20,000"."""
    value = finite(value)
    return MISSING if value is None else _local(f"{round(value):,d}")


def signed(value, digits: int = 3) -> str:
    """Like ``sig`` with an explicit sign: "+0.222", "-0.444", "0"."""
    value = finite(value)
    if value is None:
        return MISSING
    text = sig(value, digits)
    return text if value <= 0 or text == "0" else "+" + text


def _signed_fixed(value: float, decimals: int) -> str:
    text = fixed(value, decimals)
    return "+" + text if value > 0 and text.strip("0.,") else text


def latency_unit(ms) -> tuple[str, float]:
    """("µs", 1000) for values below 0.1 ms, else ("ms", 1): the unit a latency is shown in."""
    value = finite(ms)
    return ("µs", 1000.0) if value is not None and abs(value) < MICRO_BELOW_MS else ("ms", 1.0)


def ms(value) -> str:
    """A latency in milliseconds, written readably: 0.00234 -> "2.34 µs", 0.412 -> "0.412 ms",
    1130 -> "1,130 ms"; "–" when not measured."""
    value = finite(value)
    if value is None:
        return MISSING
    unit, scale = latency_unit(value)
    return f"{sig(value * scale)} {unit}"


def ms_range(low, high) -> str:
    """A p10–p90 interval in one unit (chosen by the upper end): "487 µs–4.69 ms" becomes
    "0.487–4.69 ms"; "–" when either end is missing."""
    low, high = finite(low), finite(high)
    if low is None or high is None:
        return MISSING
    unit, scale = latency_unit(high)
    return f"{sig(low * scale)}–{sig(high * scale)} {unit}"


def size(nbytes) -> str:
    """Bytes as "639 kB" / "16.9 MB" (1 kB = 1,000 bytes); "–" when not measured."""
    value = finite(nbytes)
    if value is None:
        return MISSING
    if abs(value) >= 1e6:
        return f"{sig(value / 1e6)} MB"
    if abs(value) >= 1e3:
        return f"{sig(value / 1e3)} kB"
    return f"{count(value)} B"


def kib(nbytes) -> str:
    """Bytes as KiB for a microcontroller's budgets (1 kB = 1,024 bytes there): "9.13 kB"."""
    value = finite(nbytes)
    return MISSING if value is None else f"{sig(value / 1024)} kB"


def seconds(value) -> str:
    """A duration: "42 s", "1.5 s", "1,130 s"."""
    value = finite(value)
    if value is None:
        return MISSING
    return f"{count(value)} s" if abs(value) >= 10 else f"{sig(value, 2)} s"


def ratio(value) -> str:
    """A factor such as "3.42x"."""
    value = finite(value)
    return MISSING if value is None else f"{sig(value)}x"


def plain(value) -> str:
    """A number a user typed, written back as short as it is: 0.5 -> "0.5", 4.0 -> "4"."""
    value = finite(value)
    return MISSING if value is None else _local(f"{value:g}")


def p_value(value) -> str:
    """A p-value: "p = 0.031", "p = 1.0", "p < 0.001"."""
    value = finite(value)
    if value is None:
        return "p not known"
    if value < 0.001:
        return f"p < {fixed(0.001, 3)}"
    return f"p = {sig(min(value, 1.0), 2)}"


# --- the metric (accuracy, agreement, RMSE) and its changes ------------------------------------

def is_percent(metric) -> bool:
    """True for metrics shown in percent (accuracy, agreement)."""
    return str(metric or "accuracy") in PERCENT_METRICS


def metric_scale(metric) -> float:
    """100 for percent metrics, 1 for the others (RMSE)."""
    return 100.0 if is_percent(metric) else 1.0


def metric_places(values=(), deltas=(), metric="accuracy", samples=None) -> int:
    """The decimals a set of metric values and their changes against the baseline share: as
    many as the smallest non-zero change needs for three significant figures -- with
    ``samples`` (the test split's size) also the change of one sample, so every accuracy of a
    run reads the same everywhere (450 samples: 98.222 %) -- at least what the values need
    for three (98.7 -> 1), at most ``MAX_PLACES`` (percent) or 6 (RMSE)."""
    scale = metric_scale(metric)
    shown = [v * scale for v in map(finite, values) if v is not None]
    changes = [abs(d * scale) for d in map(finite, deltas) if d is not None and d != 0]
    if is_percent(metric) and finite(samples) and samples > 0:
        changes.append(scale / samples)
    need = max([needed_places(v) for v in shown if v != 0] or [1])
    if changes:
        need = max(need, needed_places(min(changes)))
    return min(max(need, 1 if is_percent(metric) else 0), MAX_PLACES if is_percent(metric) else 6)


def metric_value(value, metric="accuracy", decimals: int | None = None, unit: bool = True) -> str:
    """One metric value: 0.98667 -> "98.7 %" (or with ``decimals`` 3 -> "98.667 %"); an RMSE
    as a plain number ("0.0123"); "–" when not measured."""
    value = finite(value)
    if value is None:
        return MISSING
    scaled = value * metric_scale(metric)
    text = sig(scaled) if decimals is None else fixed(scaled, decimals)
    return f"{text} %" if unit and is_percent(metric) else text


def interval(ci, metric="accuracy", decimals: int | None = None) -> str:
    """An interval's ends in the metric's units, without the unit: "97.1–99.2"; "–" when
    there is none."""
    if not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return MISSING
    low, high = finite(ci[0]), finite(ci[1])
    if low is None or high is None:
        return MISSING
    scale = metric_scale(metric)
    if decimals is None:
        decimals = max(places(low * scale), places(high * scale))
    return f"{fixed(low * scale, decimals)}–{fixed(high * scale, decimals)}"


def metric_ci(value, ci, metric="accuracy", decimals: int | None = None) -> str:
    """A metric with its 95 % interval: "98.222 % (96.5–99.1)" -- the value in ``decimals``
    (the decimals its changes need), the interval's ends at three significant figures (they
    are uncertain by more than that); the value alone without an interval."""
    if decimals is None:
        decimals = metric_places([value], (), metric)
    text = metric_value(value, metric, decimals)
    if text == MISSING or interval(ci, metric) == MISSING:
        return text
    return f"{text} ({interval(ci, metric)})"


def change(delta, metric="accuracy", decimals: int | None = None) -> str:
    """A change in the metric without its unit: "-0.222" (points for percent metrics),
    three significant figures unless ``decimals`` is given."""
    value = finite(delta)
    if value is None:
        return MISSING
    scaled = value * metric_scale(metric)
    return signed(scaled) if decimals is None else _signed_fixed(scaled, decimals)


def points(delta, metric="accuracy", decimals: int | None = None) -> str:
    """A change in a fraction metric as signed percentage points ("-0.444 points"), or the
    signed raw change for other metrics (RMSE)."""
    text = change(delta, metric, decimals)
    return f"{text} points" if text != MISSING and is_percent(metric) else text


def points_range(ci, metric="accuracy") -> str:
    """A change's interval: "-1.11 to +0.444 points" (three significant figures each)."""
    if not isinstance(ci, (list, tuple)) or len(ci) != 2 or None in map(finite, ci):
        return MISSING
    low, high = change(ci[0], metric), change(ci[1], metric)
    return f"{low} to {high}" + (" points" if is_percent(metric) else "")


# --- latency axes ------------------------------------------------------------------------------

def tick_ms(value) -> str:
    """A short axis label for a latency tick: 0.2 -> "0.2 ms", 0.005 -> "5 µs", 2 -> "2 ms"."""
    if float(value) == 0:
        return "0"
    unit, scale = latency_unit(value)
    return f"{plain(float(value) * scale)} {unit}"


def latency_ticks(low: float, high: float, log: bool) -> tuple[list[float], list[str]]:
    """Tick values and labels (each with its unit) for a latency axis from ``low`` to ``high``
    ms: 1-2-5 steps on a log axis (0.1, 0.2, 0.5, 1, 2 ms), about five even steps otherwise."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= 0:
        return [], []
    if log:
        low = max(low, high * 1e-6)
        values = [m * 10.0 ** e for e in range(math.floor(math.log10(low)) - 1,
                                               math.ceil(math.log10(high)) + 1)
                  for m in (1, 2, 5)]
        values = [v for v in values if low <= v <= high]
    else:
        raw = (high - max(low, 0.0)) / 5 or high
        power = 10.0 ** math.floor(math.log10(raw))
        step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
        values = [i * step for i in range(int(max(low, 0.0) // step), int(high // step) + 1)]
        values = [v for v in values if max(low, 0.0) <= v <= high]
    values = [float(f"{v:.6g}") for v in values]
    return values, [tick_ms(v) for v in values]


#: The names the package exports (``optimizer.report.fmt_ms`` / ``fmt_sig``).
fmt_ms = ms
fmt_sig = sig

__all__ = ["Separators", "separators", "use_separators", "finite", "places", "needed_places",
           "round_sig", "sig", "fixed", "count", "signed", "latency_unit", "ms", "ms_range", "size", "kib",
           "seconds", "ratio", "plain", "p_value", "is_percent", "metric_scale", "metric_places",
           "metric_value", "interval", "metric_ci", "change", "points", "points_range", "tick_ms",
           "latency_ticks", "MICRO_BELOW_MS", "PERCENT_METRICS", "MAX_PLACES", "MISSING",
           "ENGLISH", "fmt_ms", "fmt_sig"]
