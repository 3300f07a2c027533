"""Insights in words: ``render(insight)`` writes one sentence per kind from its ``params``.

An insight is data (``kind`` + ``params``: the names and the raw numbers it states); this module
is the English message catalogue, one function per kind, every number written by
``optimizer.numbers``. A translation is another catalogue with the same keys. Wherever a
sentence compares techniques, each technique's figure follows its name ("integer 1.20 µs vs
float32 2.00 µs"), in the order the names are given.
"""
from __future__ import annotations

from optimizer import numbers

#: How a size basis is named in a sentence.
BASIS_WORDS = {"raw": "on disk", "gzip": "gzipped (download size)"}


def _size_of(params: dict, key: str) -> str:
    return numbers.size(params.get(key))


def _evidence(params: dict) -> str:
    """ "2 of 450 test samples differ, p = 0.031" or the p-value alone (RMSE)."""
    parts = []
    worse, better, samples = params.get("worse"), params.get("better"), params.get("samples")
    if worse is not None and better is not None and samples:
        changed = int(worse) + int(better)
        parts.append(f"{numbers.count(changed)} of {numbers.count(samples)} test samples differ")
    if params.get("p_value") is not None:
        parts.append(numbers.p_value(params["p_value"]))
    return ", ".join(parts) or ("not testable: this run kept no per-sample predictions (an "
                                "older run)")


def _measured_on(p: dict) -> str:
    return "Measured on " + "; ".join(p["hosts"]) + "."


def _mixed_nodes(p: dict) -> str:
    return (f"These results were timed on different nodes ({', '.join(p['nodes'])}): their "
            "latencies are not comparable with each other (size and accuracy do not depend on "
            "the node), so no faster or slower is claimed between nodes. Time them again in one "
            "run to compare speed.")


def _latency_figures(p: dict) -> str:
    a, b = p["technique"], p["versus"]
    return (f"{a} {numbers.ms(p['median'])} (p10–p90 {numbers.ms_range(p['p10'], p['p90'])}) vs "
            f"{b} {numbers.ms(p['versus_median'])} (p10–p90 "
            f"{numbers.ms_range(p['versus_p10'], p['versus_p90'])})")


def _latency_context(p: dict) -> str:
    text = ""
    if p.get("float16"):
        text += (" The guide: float16 stores the weights as float16 and executes in float32, so "
                 "its speed-up is on GPU delegates.")
    if p.get("kernels"):
        text += f" Kernels: {p['technique']} {p['kernels']}, {p['versus']} {p['versus_kernels']}."
    if p.get("outside_xnnpack"):
        text += (f" The timing process found {p['outside_xnnpack']}: those run on builtin "
                 "kernels and split the XNNPACK graph.")
    return text


def _faster(p: dict) -> str:
    return (f"{p['technique']} is faster than {p['versus']} here (the p10–p90 intervals do not "
            f"overlap): {_latency_figures(p)}, {numbers.ratio(p['versus_median'] / p['median'])}"
            f" faster.{_latency_context(p)}")


def _slower(p: dict) -> str:
    return (f"{p['technique']} is slower than {p['versus']} here (the p10–p90 intervals do not "
            f"overlap): {_latency_figures(p)}, {numbers.ratio(p['median'] / p['versus_median'])}"
            f" slower.{_latency_context(p)}")


def _not_meaningful(p: dict) -> str:
    return (f"No meaningful latency difference between {p['technique']} and {p['versus']}: the "
            f"p10–p90 intervals overlap ({_latency_figures(p)}).{_latency_context(p)}")


def _compressed_only(p: dict) -> str:
    extra = ""
    if p.get("sparsity") is not None:
        extra = f" (measured sparsity {numbers.sig(100 * p['sparsity'])} %)"
    elif p.get("distinct"):
        extra = f" (at most {numbers.count(p['distinct'])} distinct weights per channel)"
    return (f"{p['what']} helps only the compressed size{extra}: on disk {p['technique']} "
            f"{_size_of(p, 'bytes')} vs float32 {_size_of(p, 'base_bytes')}, the same; gzipped "
            f"{p['technique']} {_size_of(p, 'gzip_bytes')} vs float32 "
            f"{_size_of(p, 'base_gzip_bytes')}, {numbers.ratio(p['base_gzip_bytes'] / p['gzip_bytes'])}"
            " smaller. Add a post-training quantization to shrink the file itself.")


def _who(p: dict) -> str:
    if p.get("recommended"):
        return f"The guide recommended {p['technique']}"
    return f"The guide's table gives {p['title']} the '{p['claim']}'"


def _guide_contradicted(p: dict) -> str:
    if p["about"] == "size":
        basis = BASIS_WORDS[p["basis"]]
        return (f"{_who(p)} for 'as small as possible (about 4x)', but {p['versus']} is smaller "
                f"{basis}: {p['versus']} {_size_of(p, 'versus_bytes')} vs {p['technique']} "
                f"{_size_of(p, 'bytes')}.")
    because = (f" ({p['claim'].lower()}, says the guide's table)"
               if p.get("recommended") and p.get("claim") else "")
    metric = p["metric"]
    return (f"{_who(p)}{because}, but {p['technique']} lost more {metric} than {p['versus']}, "
            f"against float32: {p['technique']} {numbers.points(p['delta'], metric)} vs "
            f"{p['versus']} {numbers.points(p['versus_delta'], metric)} (the difference "
            f"{numbers.points(p['difference'], metric)}, 95 % interval "
            f"{numbers.points_range(p['ci'], metric)}; {_evidence(p)}).")


def _within_noise(p: dict) -> str:
    metric = p["metric"]
    if p.get("about") == "budget":
        return (f"The recommended {p['technique']} is within noise of your accuracy budget: "
                f"{p['detail']}.")
    evidence = _evidence(p)
    return (f"{p['technique']} and {p['versus']} differ by less than the test split can tell: "
            f"{p['technique']} {numbers.points(p['delta'], metric)} vs {p['versus']} "
            f"{numbers.points(p['versus_delta'], metric)} against float32 ({evidence}): no "
            f"measurable difference, so this run neither confirms nor contradicts the guide's "
            f"'{p['claim']}' for {p['technique']}.")


def _goal_missed(p: dict) -> str:
    meeting = p.get("meeting") or []
    if meeting:
        verb = "meets" if len(meeting) == 1 else "meet"
        fix = f"Among the measured results, {', '.join(meeting)} {verb} it."
    elif p.get("pending"):
        fix = (f"None of the measured results meets it so far; {numbers.count(p['pending'])} "
               "are not checked yet or within noise of it.")
    else:
        fix = "None of the measured results meets it."
    return f"The recommended {p['technique']} missed your {p['goal']} goal: {p['detail']}. {fix}"


def _goal_not_checked(p: dict) -> str:
    return (f"Whether the recommended {p['technique']} meets your {p['goal']} goal is not "
            f"checked yet: {p['detail']}.")


def _best(p: dict) -> str:
    basis = BASIS_WORDS[p["basis"]]
    count = p["goals"]
    goals = f"all {count} of your goals" if count > 1 else "your goal"
    return (f"For your goals the measurements favour {p['technique']}: the smallest variant "
            f"{basis} that meets {goals}, {p['technique']} {_size_of(p, 'bytes')} vs float32 "
            f"{_size_of(p, 'base_bytes')} ({numbers.ratio(p['ratio'])} smaller {basis}).")


def _none_meets(p: dict) -> str:
    parts = []
    if p.get("within_noise"):
        parts.append(f"{numbers.count(p['within_noise'])} within noise of the accuracy budget")
    if p.get("not_checked"):
        parts.append(f"{numbers.count(p['not_checked'])} not checked yet")
    if not parts:
        return "None of the measured variants meets all your goals."
    return ("No measured variant meets all your goals yet: " + ", ".join(parts)
            + " (never counted as met, never as missed).")


def _failed(p: dict) -> str:
    return f"{p['status']}: {p.get('error') or 'no message recorded'}"


def _latency_note(p: dict) -> str:
    return str(p["note"])


#: The renderer of every kind (a kind without one fails at import of the rules, see insights).
RENDERERS = {
    "measured_on": _measured_on,
    "mixed_nodes": _mixed_nodes,
    "faster": _faster,
    "slower": _slower,
    "not_meaningful": _not_meaningful,
    "compressed_only": _compressed_only,
    "guide_contradicted": _guide_contradicted,
    "within_noise": _within_noise,
    "goal_missed": _goal_missed,
    "goal_not_checked": _goal_not_checked,
    "best": _best,
    "none_meets": _none_meets,
    "failed": _failed,
    "latency_note": _latency_note,
}


def render(insight) -> str:
    """The sentence of ``insight`` (an ``Insight`` or its dict) from its kind and params; an
    insight stored before params existed keeps its stored message."""
    kind = getattr(insight, "kind", None) or (insight or {}).get("kind")
    params = getattr(insight, "params", None)
    if params is None and isinstance(insight, dict):
        params = insight.get("params")
    message = getattr(insight, "message", None) or (insight.get("message")
                                                    if isinstance(insight, dict) else None)
    if not params:
        if message:
            return str(message)
        raise ValueError(f"insight of kind {kind!r} has neither params nor a message")
    try:
        renderer = RENDERERS[kind]
    except KeyError:
        raise ValueError(f"no sentence for insight kind {kind!r}; add one to "
                         "optimizer.report.insight_text.RENDERERS") from None
    return renderer(params)


#: The name the report package exports.
render_insight = render
