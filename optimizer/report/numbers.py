"""How every number is written for people: three significant figures, latency in µs below
0.1 ms, sizes in kB/MB. Tables, charts, insights, the CLI and the report all use these, so a
value reads the same everywhere.
"""
from __future__ import annotations

import math

#: Below this many milliseconds a latency is written in microseconds.
MICRO_BELOW_MS = 0.1


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def sig(value, digits: int = 3) -> str:
    """``value`` with ``digits`` significant figures, never in exponent form: 0.000412 ->
    "0.000412", 4.6862 -> "4.69", 1130.4 -> "1,130", 0 -> "0"; "–" when missing."""
    value = _finite(value)
    if value is None:
        return "–"
    if value == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    if decimals <= 0:
        return f"{round(value, decimals):,.0f}"
    text = f"{value:.{decimals}f}"
    # rounding can add a digit (9.995 -> "10.00"): drop the extra decimal
    if len(text.replace("-", "").replace(".", "").lstrip("0")) > digits and decimals > 0:
        text = f"{value:.{decimals - 1}f}"
    return text


def signed(value, digits: int = 3) -> str:
    """Like ``sig`` with an explicit sign: "+0.222", "-0.444", "0"."""
    value = _finite(value)
    if value is None:
        return "–"
    text = sig(value, digits)
    return text if value <= 0 or text == "0" else "+" + text


def latency_unit(ms) -> tuple[str, float]:
    """("µs", 1000) for values below 0.1 ms, else ("ms", 1): the unit a latency is shown in."""
    value = _finite(ms)
    return ("µs", 1000.0) if value is not None and abs(value) < MICRO_BELOW_MS else ("ms", 1.0)


def ms(value) -> str:
    """A latency in milliseconds, written readably: 0.00234 -> "2.34 µs", 0.412 -> "0.412 ms",
    1130 -> "1,130 ms"; "–" when not measured."""
    value = _finite(value)
    if value is None:
        return "–"
    unit, scale = latency_unit(value)
    return f"{sig(value * scale)} {unit}"


def ms_range(low, high) -> str:
    """A p10–p90 interval in one unit (chosen by the upper end): "487 µs–4.69 ms" becomes
    "0.487–4.69 ms"; "–" when either end is missing."""
    low, high = _finite(low), _finite(high)
    if low is None or high is None:
        return "–"
    unit, scale = latency_unit(high)
    return f"{sig(low * scale)}–{sig(high * scale)} {unit}"


def size(nbytes) -> str:
    """Bytes as "639 kB" / "16.9 MB" (1 kB = 1,000 bytes); "–" when not measured."""
    value = _finite(nbytes)
    if value is None:
        return "–"
    if abs(value) >= 1e6:
        return f"{sig(value / 1e6)} MB"
    if abs(value) >= 1e3:
        return f"{sig(value / 1e3)} kB"
    return f"{value:,.0f} B"


def points(delta, metric: str = "accuracy") -> str:
    """A change in a fraction metric as signed percentage points ("-0.444 points"), or the
    signed raw change for other metrics (RMSE)."""
    value = _finite(delta)
    if value is None:
        return "–"
    if metric in ("accuracy", "agreement"):
        return f"{signed(100 * value)} points"
    return signed(value)


def ratio(value) -> str:
    """A factor such as "3.42x"."""
    value = _finite(value)
    return "–" if value is None else f"{sig(value)}x"


#: The names the package exports (``optimizer.report.fmt_ms`` / ``fmt_sig``).
fmt_ms = ms
fmt_sig = sig


def tick_ms(value) -> str:
    """A short axis label for a latency tick: 0.2 -> "0.2 ms", 0.005 -> "5 µs", 2 -> "2 ms"."""
    if float(value) == 0:
        return "0"
    unit, scale = latency_unit(value)
    return f"{float(value) * scale:g} {unit}"


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
