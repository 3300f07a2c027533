"""Insights in words: ``render(insight)`` writes one sentence per kind from its ``params``.

An insight is data (``kind`` + ``params``: the names and the raw numbers it states); this module
writes it, one function per kind, every sentence a message of the catalogue (``optimizer.text``:
English ids, ``vi.po`` for Vietnamese) and every number written by ``optimizer.numbers``, both in
the language in use (``lang`` or this context's). Nothing translates an English sentence
afterwards: a page in Vietnamese renders the same params in Vietnamese. Wherever a sentence
compares techniques, each technique's figure follows its name ("integer 1.20 µs vs float32
2.00 µs"), in the order the names are given.
"""
from __future__ import annotations

from optimizer import numbers
from optimizer.guide.goals import evidence_phrase, metric_word
from optimizer.guide.verdicts import goal_word
from optimizer.measuring.latency import host_words, kernels_words, note_words
from optimizer.text import N_, tr, use_language
from optimizer.text import render as render_text

#: Each kind's name where a list of insights labels them (the report), as message ids.
KIND_WORDS = {"measured_on": N_("measured on"), "mixed_nodes": N_("mixed nodes"),
              "faster": N_("faster"), "slower": N_("slower"),
              "not_meaningful": N_("no meaningful difference"),
              "compressed_only": N_("compressed only"),
              "guide_contradicted": N_("the guide contradicted"),
              "within_noise": N_("within noise"), "goal_missed": N_("goal missed"),
              "goal_not_checked": N_("goal not checked"), "best": N_("best"),
              "none_meets": N_("none meets the goals"), "failed": N_("failed"),
              "latency_note": N_("latency note")}


def kind_words(kind: str) -> str:
    """An insight kind's name in the language in use (the id itself when it has none)."""
    return tr(KIND_WORDS[kind]) if kind in KIND_WORDS else str(kind)


#: How a size basis is named in a sentence (message ids).
BASIS_WORDS = {"raw": N_("on disk"), "gzip": N_("gzipped (download size)")}


def _size_of(params: dict, key: str) -> str:
    return numbers.size(params.get(key))


def _evidence(params: dict) -> str:
    """ "2 of 450 test samples differ, p = 0.031" or the p-value alone (RMSE)."""
    return render_text(evidence_phrase(params)) or tr(
        "not testable: this run kept no per-sample predictions (an older run)")


def _measured_on(p: dict) -> str:
    return tr("Measured on {hosts}.", hosts="; ".join(render_text(host_words(h))
                                                      for h in p["hosts"]))


def _mixed_nodes(p: dict) -> str:
    return tr("These results were timed on different nodes ({nodes}): their latencies are not "
              "comparable with each other (size and accuracy do not depend on the node), so no "
              "faster or slower is claimed between nodes. Time them again in one run to "
              "compare speed.", nodes=", ".join(p["nodes"]))


def _latency_figures(p: dict) -> str:
    return tr("{a} {a_ms} (p10–p90 {a_range}) vs {b} {b_ms} (p10–p90 {b_range})",
              a=p["technique"], a_ms=numbers.ms(p["median"]),
              a_range=numbers.ms_range(p["p10"], p["p90"]), b=p["versus"],
              b_ms=numbers.ms(p["versus_median"]),
              b_range=numbers.ms_range(p["versus_p10"], p["versus_p90"]))


def _latency_context(p: dict) -> str:
    text = ""
    if p.get("float16"):
        text += " " + tr("The guide: float16 stores the weights as float16 and executes in "
                         "float32, so its speed-up is on GPU delegates.")
    if p.get("kernels"):
        text += " " + tr("Kernels: {a} {a_kernels}, {b} {b_kernels}.", a=p["technique"],
                         a_kernels=render_text(kernels_words(p["kernels"])), b=p["versus"],
                         b_kernels=render_text(kernels_words(p["versus_kernels"])))
    if p.get("outside_xnnpack"):
        text += " " + tr("The timing process found {what}: those run on builtin kernels and "
                         "split the XNNPACK graph.",
                         what=render_text(note_words(p["outside_xnnpack"])))
    return text


def _faster(p: dict) -> str:
    return tr("{technique} is faster than {versus} here (the p10–p90 intervals do not overlap): "
              "{figures}, {ratio} faster.", technique=p["technique"], versus=p["versus"],
              figures=_latency_figures(p),
              ratio=numbers.ratio(p["versus_median"] / p["median"])) + _latency_context(p)


def _slower(p: dict) -> str:
    return tr("{technique} is slower than {versus} here (the p10–p90 intervals do not overlap): "
              "{figures}, {ratio} slower.", technique=p["technique"], versus=p["versus"],
              figures=_latency_figures(p),
              ratio=numbers.ratio(p["median"] / p["versus_median"])) + _latency_context(p)


def _not_meaningful(p: dict) -> str:
    return tr("No meaningful latency difference between {technique} and {versus}: the p10–p90 "
              "intervals overlap ({figures}).", technique=p["technique"], versus=p["versus"],
              figures=_latency_figures(p)) + _latency_context(p)


def _compressed_only(p: dict) -> str:
    extra = ""
    if p.get("sparsity") is not None:
        extra = tr(" (measured sparsity {percent} %)", percent=numbers.sig(100 * p["sparsity"]))
    elif p.get("distinct"):
        extra = tr(" (at most {count} distinct weights per channel)",
                   count=numbers.count(p["distinct"]))
    return tr("{what} helps only the compressed size{extra}: on disk {technique} {bytes} vs "
              "float32 {base_bytes}, the same; gzipped {technique} {gzip_bytes} vs float32 "
              "{base_gzip_bytes}, {ratio} smaller. Add a post-training quantization to shrink "
              "the file itself.", what=tr(p["what"]), extra=extra, technique=p["technique"],
              bytes=_size_of(p, "bytes"), base_bytes=_size_of(p, "base_bytes"),
              gzip_bytes=_size_of(p, "gzip_bytes"),
              base_gzip_bytes=_size_of(p, "base_gzip_bytes"),
              ratio=numbers.ratio(p["base_gzip_bytes"] / p["gzip_bytes"]))


def _who(p: dict) -> str:
    if p.get("recommended"):
        return tr("The guide recommended {technique}", technique=p["technique"])
    return tr("The guide's table gives {title} the '{claim}'", title=tr(p["title"]),
              claim=tr(p["claim"]))


def _guide_contradicted(p: dict) -> str:
    if p["about"] == "size":
        return tr("{who} for 'as small as possible (about 4x)', but {versus} is smaller {basis}: "
                  "{versus} {versus_bytes} vs {technique} {bytes}.", who=_who(p),
                  versus=p["versus"], basis=tr(BASIS_WORDS[p["basis"]]),
                  versus_bytes=_size_of(p, "versus_bytes"), technique=p["technique"],
                  bytes=_size_of(p, "bytes"))
    because = (tr(" ({claim}, says the guide's table)", claim=tr(p["claim"]).lower())
               if p.get("recommended") and p.get("claim") else "")
    metric = p["metric"]
    return tr("{who}{because}, but {technique} lost more {metric} than {versus}, against "
              "float32: {technique} {delta} vs {versus} {versus_delta} (the difference "
              "{difference}, 95 % interval {interval}; {evidence}).", who=_who(p),
              because=because, technique=p["technique"],
              metric=render_text(metric_word(metric)), versus=p["versus"],
              delta=numbers.points(p["delta"], metric),
              versus_delta=numbers.points(p["versus_delta"], metric),
              difference=numbers.points(p["difference"], metric),
              interval=numbers.points_range(p["ci"], metric), evidence=_evidence(p))


def _within_noise(p: dict) -> str:
    metric = p["metric"]
    if p.get("about") == "budget":
        return tr("The recommended {technique} is within noise of your accuracy budget: "
                  "{detail}.", technique=p["technique"], detail=render_text(p["detail"]))
    return tr("{technique} and {versus} differ by less than the test split can tell: "
              "{technique} {delta} vs {versus} {versus_delta} against float32 ({evidence}): no "
              "measurable difference, so this run neither confirms nor contradicts the "
              "guide's '{claim}' for {technique}.", technique=p["technique"],
              versus=p["versus"], delta=numbers.points(p["delta"], metric),
              versus_delta=numbers.points(p["versus_delta"], metric),
              evidence=_evidence(p), claim=tr(p["claim"]))


def _goal_missed(p: dict) -> str:
    meeting = p.get("meeting") or []
    if len(meeting) == 1:
        fix = tr("Among the measured results, {names} meets it.", names=meeting[0])
    elif meeting:
        fix = tr("Among the measured results, {names} meet it.", names=", ".join(meeting))
    elif p.get("pending"):
        fix = tr("None of the measured results meets it so far; {count} are not checked yet "
                 "or within noise of it.", count=numbers.count(p["pending"]))
    else:
        fix = tr("None of the measured results meets it.")
    return tr("The recommended {technique} missed your {goal} goal: {detail}. {fix}",
              technique=p["technique"], goal=render_text(goal_word(p["goal"])),
              detail=render_text(p["detail"]), fix=fix)


def _goal_not_checked(p: dict) -> str:
    return tr("Whether the recommended {technique} meets your {goal} goal is not checked yet: "
              "{detail}.", technique=p["technique"], goal=render_text(goal_word(p["goal"])),
              detail=render_text(p["detail"]))


def _best(p: dict) -> str:
    basis = tr(BASIS_WORDS[p["basis"]])
    values = {"technique": p["technique"], "basis": basis, "bytes": _size_of(p, "bytes"),
              "base_bytes": _size_of(p, "base_bytes"), "ratio": numbers.ratio(p["ratio"])}
    if p["goals"] > 1:
        return tr("For your goals the measurements favour {technique}: the smallest variant "
                  "{basis} that meets all {count} of your goals, {technique} {bytes} vs "
                  "float32 {base_bytes} ({ratio} smaller {basis}).", count=p["goals"],
                  **values)
    return tr("For your goals the measurements favour {technique}: the smallest variant "
              "{basis} that meets your goal, {technique} {bytes} vs float32 {base_bytes} "
              "({ratio} smaller {basis}).", **values)


def _none_meets(p: dict) -> str:
    parts = []
    if p.get("within_noise"):
        parts.append(tr("{count} within noise of the accuracy budget",
                        count=numbers.count(p["within_noise"])))
    if p.get("not_checked"):
        parts.append(tr("{count} not checked yet", count=numbers.count(p["not_checked"])))
    if not parts:
        return tr("None of the measured variants meets all your goals.")
    return tr("No measured variant meets all your goals yet: {parts} (never counted as met, "
              "never as missed).", parts=", ".join(parts))


#: A result's status as a sentence names it (message ids).
STATUS_WORDS = {"ok": N_("ok"), "failed": N_("failed"), "skipped": N_("skipped"),
                "error": N_("error"), "cancelled": N_("cancelled")}


def _failed(p: dict) -> str:
    status = STATUS_WORDS.get(str(p["status"]))
    return tr("{status}: {error}", status=tr(status) if status else str(p["status"]),
              error=render_text(p.get("error")) if p.get("error") else
              tr("no message recorded"))


def _latency_note(p: dict) -> str:
    return render_text(note_words(p["note"]))


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


def render(insight, lang: str | None = None) -> str:
    """The sentence of ``insight`` (an ``Insight`` or its dict) from its kind and params, in
    ``lang`` (default: the language in use); an insight stored before params existed keeps its
    stored message."""
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
    if lang is None:
        return renderer(params)
    with use_language(lang):
        return renderer(params)


#: The name the report package exports.
render_insight = render
