"""The hand-over report: one self-contained HTML file for a run (no streamlit, no network).

``report_html(run_dir)`` gathers what the run folder holds -- the model, the answers and
goals it was made for (its ``request.json``), the guide's tree path and recommendation with its
reasons, the goals as sentences, the results table with the intervals and the paired tests,
the readiness per variant when it was checked, the three charts (plotly.js inlined: the file opens offline),
the insights, how it was measured (library versions, CPU, threads, dates) and the commands
that reproduce it. Every user string is escaped; no server path is written into the file.
Each chart has a "Save PNG" button (plotly's client-side export, for slides).
"""
from __future__ import annotations

import html
import re
import time
from pathlib import Path

from optimizer import numbers
from optimizer.artifacts import store
from optimizer.guide.goals import metric_word
from optimizer.guide.registry import BASELINE
from optimizer.guide.schema import Result, results_frame
from optimizer.measuring.latency import host_words, kernels_words
from optimizer.report import style
from optimizer.report.insight_text import kind_words
from optimizer.report.readiness import readiness_cell, readiness_rows
from optimizer.text import N_, current_language, render, tr

GUIDE_URL = "https://ai.google.dev/edge/litert/models/model_optimization"

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;
max-width:1200px;padding:24px;color:#1f2937;line-height:1.45}
h1{margin-bottom:4px}h2{margin-top:36px;border-bottom:2px solid #e5e7eb;padding-bottom:4px}
table{border-collapse:collapse;font-size:14px;margin:8px 0;width:100%}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#6b7280;font-size:13px}.warn{border-left:4px solid #d97706;background:#fffbeb}
.info{border-left:4px solid #2563eb;background:#eff6ff}.note{padding:6px 10px;margin:6px 0}
.chart{margin:16px 0;border:1px solid #e5e7eb;border-radius:6px;padding:8px}
button{font-size:13px;padding:4px 10px;cursor:pointer}
pre{background:#f3f4f6;padding:10px;overflow-x:auto;font-size:13px}
@media print{button{display:none}}
"""


_PATH = re.compile(r"(?<![\w.])/(?:[\w.+-]+/)+[\w.+-]*")


def scrub_paths(text: str) -> str:
    """``text`` with absolute paths cut to their last part ("log: /srv/x/job.log" -> "log:
    job.log"): a report handed to others names no folder of this server."""
    return _PATH.sub(lambda m: Path(m.group(0)).name or "…", text)


def _e(value) -> str:
    return html.escape(scrub_paths("" if value is None else str(value)))


def _t(text) -> str:
    """A text of the catalogue (trusted, no path in it) in HTML: only ``<`` and ``&`` escaped."""
    return html.escape(str(text), quote=False)


def _public_model(ref: str | None) -> str:
    """A model reference fit for a file handed to others: a demo name, or a file's name only."""
    text = str(ref or "")
    return Path(text).name if ("/" in text or "\\" in text) else text


def _table(headers, rows, numeric=()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(
        f"<td class='n'>{_e(c)}</td>" if i in numeric else f"<td>{_e(c)}</td>"
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_GOAL_WORDS = {"met": N_("met"), "missed": N_("missed"), "within_noise": N_("within noise"),
               "not_checked": N_("not checked yet")}
_STATUS_WORDS = {"ok": N_("ok"), "error": N_("error"), "skipped": N_("skipped"),
                 "cancelled": N_("cancelled")}


def _word(words: dict, value) -> str:
    return tr(words[value]) if value in words else ("" if value is None else str(value))


def _results_rows(results: list[Result], checks: dict) -> list[tuple]:
    base = next((r for r in results if r.is_baseline and r.ok), None)
    metric = (base.metric if base is not None else None) or "accuracy"
    places = numbers.metric_places([r.accuracy for r in results],
                                   [r.delta_value for r in results if r is not base], metric,
                                   max((r.samples or 0 for r in results), default=0))
    rows = []
    for r in results:
        check = checks.get(r.technique)
        goals = tr("baseline") if r is base else ("" if check is None else
                                                  _word(_GOAL_WORDS, check.state.value))
        ratio = (base.size_bytes / r.size_bytes) if base and base.size_bytes and r.size_bytes \
            else None
        delta = ""
        if r is not base and r.delta_value is not None:
            delta = numbers.change(r.delta_value, metric) + (
                f" ({numbers.p_value(r.delta_p)})" if r.delta_p is not None else "")
        rows.append((style.shown_name(style.result_name(r)), _word(_STATUS_WORDS, r.status),
                     goals, readiness_cell(r.readiness)
                     if r.readiness else "",
                     numbers.metric_ci(r.accuracy, r.accuracy_ci, metric, places)
                     if r.accuracy is not None else "–", delta,
                     numbers.size(r.size_bytes), numbers.ratio(ratio) if r is not base else "",
                     numbers.size(r.gzip_bytes), numbers.ms(r.latency_ms_median),
                     numbers.ms_range(r.latency_ms_p10, r.latency_ms_p90),
                     "" if r.latency_threads is None else r.latency_threads,
                     render(kernels_words(r.latency_kernels)) if r.latency_kernels else "",
                     render(r.error) if r.error else ""))
    return rows


def _chart_html(fig, div_id: str, first: bool, filename: str) -> str:
    config = {"displaylogo": False, "responsive": True,
              "toImageButtonOptions": {"format": "png", "scale": 2, "filename": filename}}
    body = fig.to_html(full_html=False, include_plotlyjs=bool(first), div_id=div_id,
                       config=config)
    button = (f"<button type='button' onclick=\"Plotly.downloadImage('{div_id}',"
              f"{{format:'png',scale:2,width:900,height:600,filename:'{_e(filename)}'}})\">"
              f"{_t(tr('Save PNG (for slides)'))}</button>")
    return f"<div class='chart'>{button}{body}</div>"


def _recommendation_html(answers) -> tuple[str, str | None]:
    if answers is None:
        return ("<p class='muted'>" + _t(tr(
            "This run was started without the questionnaire (e.g. from the command line), so "
            "no recommendation is recorded. The insights check the guide's own table "
            "instead.")) + "</p>", None)
    from optimizer.guide.targets import TARGET_LABELS
    from optimizer.recommendation.decide import answered_questions, recommend

    rec = recommend(answers)
    yes, no = tr("Yes"), tr("No")
    answer_rows = [(s.question, yes if s.answer == "Y" else no, s.because)
                   for s in answered_questions(answers)]
    path = "".join(f"<li><b>{_e(s.question)}</b> → {yes if s.answer == 'Y' else no} — "
                   f"{_e(s.because)}</li>" for s in rec.path)
    reasons = "".join(f"<li>{_e(r)}</li>" for r in rec.reasons)
    pick = (f"<code>{_e(rec.run_spec)}</code>" if rec.run_spec
            else _t(tr("nothing runnable with these answers")))
    heads = (tr("the guide asks"), tr("answer"), tr("because"))
    asked = _t(tr("Your answers, as the guide's questions"))
    tree = _t(tr("The guide's decision tree, your path"))
    text = (f"<h3>{asked}</h3>"
            f"<p>{_t(tr('Target hardware:'))} <b>{_t(tr(TARGET_LABELS[answers.target]))}</b></p>"
            f"{_table(heads, answer_rows)}"
            f"<h3>{tree}</h3><ol>{path}</ol>"
            f"<p>{_t(tr('Recommendation:'))} <b>{pick}</b></p>"
            f"<h3>{_t(tr('Why'))}</h3><ul>{reasons}</ul>")
    return text, rec.run_spec


def _goals_html(verdict) -> str:
    goals = verdict.goals
    if goals is None or not goals.active:
        return f"<p>{_t(tr('No goals were recorded for this run.'))}</p>"
    items = "".join(f"<li>{_e(render(text))}</li>" for text in goals.describe(verdict.metric))
    return (f"<p>{_t(tr('This run is {judged}:', judged=render(verdict.judged_by_words())))}"
            f"</p><ul>{items}</ul>")


def _readiness_html(results: list[Result], target: str | None) -> str:
    from optimizer.guide.targets import TARGET_LABELS, Target

    checked = [r for r in results if r.readiness]
    try:
        target = tr(TARGET_LABELS[Target(target)])
    except ValueError:
        target = target or tr("the target")
    if not checked:
        return ("<p class='muted'>" + tr(
            "Readiness for {target} was not checked for this run (the Results page's "
            "<i>{button}</i> or <code>python -m optimizer readiness</code> does it).",
            target=_e(target), button=_t(tr("Check readiness"))) + "</p>")
    frame = readiness_rows(checked)
    headers = [c for c in frame.columns if c not in (tr("Target runtime metric (%)"),
                                                     tr("LiteRT metric (%)"))]
    rows = [tuple(numbers.sig(v) if isinstance(v, float) else ("" if v is None else v)
                  for v in (row[c] for c in headers)) for _, row in frame.iterrows()]
    return _table(headers, rows)


_AGREEMENT = {
    "agreed": ("info", N_("The measurements agreed with the guide's recommendation: it was "
                          "measured and compared, and nothing measured contradicts it.")),
    "disagreed": ("warn", N_("<b>The measurements disagree with the guide's "
                             "recommendation.</b> See the insights below.")),
    "pending": ("info", N_("Nothing measured contradicts the guide's recommendation so far, "
                           "but a goal is not checked yet (readiness on the target).")),
    "not_measured": ("warn", N_("The guide's recommendation has no measurement in this run (it "
                                "failed or was not run).")),
    "not_compared": ("info", N_("The guide's recommendation was measured, but nothing else was "
                                "measured to compare it with.")),
}


def _measured_html(results: list[Result], run_dir: Path, events: list) -> str:
    recipe = next((store.read_json(r.recipe_path) for r in results
                   if r.recipe_path and Path(r.recipe_path).is_file()), None) or {}
    versions = recipe.get("libraries") or store.library_versions()
    hosts = [render(host_words(h)) for h in sorted({r.measured_on for r in results
                                                      if r.measured_on})] or [tr("not recorded")]
    threads = sorted({r.latency_threads for r in results if r.latency_threads})
    invokes = sorted({r.latency_invokes for r in results if r.latency_invokes})
    times = [e.get("t") for e in events if isinstance(e.get("t"), (int, float))]
    when = (tr("{start} to {end}",
               start=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(min(times))),
               end=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(max(times))))
            if times else tr("not recorded"))
    rows = [(tr("measured on"), "; ".join(hosts)),
            (tr("latency threads"), ", ".join(map(numbers.count, threads)) or "–"),
            (tr("timed invokes per model"), ", ".join(map(numbers.count, invokes)) or "–"),
            (tr("run dates"), when),
            (tr("report written"), time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))]
    rows += [(tr("version: {library}", library=k), v or tr("not installed"))
             for k, v in versions.items()]
    how = ("<p>" + tr("Accuracy: the test split through the LiteRT interpreter. Size: bytes on "
                      "disk and gzip -9. Latency: one sample per <code>invoke()</code> in a "
                      "separate LiteRT-only process after warm-up; median and p10–p90 of all "
                      "timed invokes. A difference is called faster or slower only when the "
                      "p10–p90 intervals do not overlap.") + "</p>")
    return how + _table((tr("what"), tr("value")), rows)


def _reproduce_html(request: dict, model: str) -> str:
    ref = _public_model(request.get("model")) or model
    specs = [s for s in request.get("techniques") or [] if s != BASELINE]
    cmd = "python -m optimizer run --model " + ref + "".join(f" --technique {s}" for s in specs)
    if request.get("data"):
        cmd += f" --data {_public_model(request['data'])}"
    cmd += "".join(f" --set {p}" for p in request.get("settings") or [])
    lines = [cmd + " --out my-run --json -", "python -m optimizer report my-run --out report.html"]
    return ("<p>" + tr("From a checkout of the project (<code>make setup</code>), with your own "
                       "model and data files where named:") + "</p><pre>"
            + _e("\n".join(lines)) + "</pre>")


def report_html(run_dir: Path | str) -> str:
    """The whole report for the run in ``run_dir`` as one HTML string (about 5 MB: plotly.js
    is inlined so the file opens offline). Raises ``FileNotFoundError`` without results."""
    from optimizer.artifacts.events import read_events
    from optimizer.report.charts import (
        accuracy_latency_figure,
        accuracy_size_figure,
        size_bars_figure,
    )
    from optimizer.report.judge import accuracy_budget
    from optimizer.report.verdict import run_verdict

    run_dir = Path(run_dir)
    doc = store.read_json(run_dir / store.RESULTS)
    if not isinstance(doc, dict) or not doc.get("results"):
        raise FileNotFoundError(f"no results in {run_dir}; pass a run folder that has "
                                f"{store.RESULTS} (see `python -m optimizer run --out`)")
    model = str(doc.get("model") or "model")
    verdict = run_verdict(run_dir, results=[Result.from_dict(r) for r in doc["results"]
                                            if isinstance(r, dict)])
    results, notes, checks = verdict.results, verdict.insights, verdict.checks
    frame = results_frame(results)
    budget = accuracy_budget(results, verdict.goals)
    request = store.read_json(run_dir / store.REQUEST, default={}) or {}
    rec_html, _ = _recommendation_html(verdict.answers)
    box = _AGREEMENT.get(verdict.agreement)
    banner = f"<p class='note {box[0]}'>{tr(box[1])}</p>" if box else ""
    stem = "".join(c if c.isalnum() else "-" for c in model)
    charts = [(accuracy_size_figure(frame, size=verdict.size, budget=budget), "acc-size"),
              (accuracy_latency_figure(frame, budget=budget), "acc-latency"),
              (size_bars_figure(frame), "sizes")]
    charts_html = "".join(_chart_html(fig, f"chart-{name}", i == 0, f"{stem}-{name}")
                          for i, (fig, name) in enumerate(charts))
    notes_html = "".join(
        f"<div class='note {'warn' if n.severity == 'warning' else 'info'}'>"
        f"<b>{_t(kind_words(n.kind))}</b> <code>{_e(n.kind)}</code>"
        f"{' · <code>' + _e(n.technique) + '</code>' if n.technique else ''}"
        f" — {_e(n.text)}</div>" for n in notes) or f"<p>{_t(tr('No insights.'))}</p>"
    headers = (tr("technique"), tr("status"), tr("goals"), tr("readiness"),
               tr("metric (95 % interval)"), tr("Δ vs float32 (p)"), tr("size"), tr("x smaller"),
               "gzip", tr("latency median"), "p10–p90", tr("threads"), tr("kernels"),
               tr("note"))
    events = read_events(run_dir / store.EVENTS)
    body = (
        f"<h1>{_t(tr('LiteRT optimization report: {model}', model=model))}</h1>"
        "<p class='muted'>" + tr(
            "Every number below was measured by LiteRT Optimization Studio on the machine "
            "named under “{how}”. Guide: <a href='{url}'>{guide}</a>.",
            how=_t(tr("How it was measured")), url=GUIDE_URL,
            guide=_t(tr("LiteRT Model optimization"))) + "</p>"
        f"<h2>{_t(tr('Model'))}</h2><p><b>{_e(model)}</b> ("
        + tr("reference {name}", name=f"<code>{_e(_public_model(request.get('model')) or model)}"
                                      "</code>") + ")</p>"
        f"<h2>{_t(tr('Goals'))}</h2>{_goals_html(verdict)}"
        f"<h2>{_t(tr('Recommendation'))}</h2>{rec_html}{banner}"
        f"<h2>{_t(tr('Results'))}</h2><p class='muted'>" + _t(tr(
            "Metric: {metric} on the test split (percent for accuracy) with its 95 % interval; "
            "Δ in percentage points against float32 with the paired test's p-value (exact "
            "McNemar on the same test samples, a paired bootstrap for RMSE; below {alpha} the "
            "change is measurable).", metric=render(metric_word(verdict.metric)),
            alpha=numbers.plain(0.05))) + "</p>"
        f"{_table(headers, _results_rows(results, checks), numeric=(4, 5, 6, 7, 8, 9, 10))}"
        f"<h2>{_t(tr('Ready for the target'))}</h2>{_readiness_html(results, verdict.target)}"
        f"<h2>{_t(tr('Charts'))}</h2>{charts_html}"
        f"<h2>{_t(tr('Insights'))}</h2>{notes_html}"
        f"<h2>{_t(tr('How it was measured'))}</h2>{_measured_html(results, run_dir, events)}"
        f"<h2>{_t(tr('Reproduce'))}</h2>{_reproduce_html(request, model)}")
    return (f"<!DOCTYPE html><html lang='{current_language()}'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_t(tr('{model} · LiteRT optimization report', model=model))}</title>"
            f"<style>{_CSS}</style></head><body>{body}</body></html>")
