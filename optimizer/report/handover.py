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
from optimizer.guide.schema import Result, results_frame
from optimizer.report import style
from optimizer.report.readiness import readiness_cell, readiness_rows

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


_GOAL_WORDS = {"met": "met", "missed": "missed", "within_noise": "within noise",
               "not_checked": "not checked yet"}


def _results_rows(results: list[Result], checks: dict) -> list[tuple]:
    base = next((r for r in results if r.technique == "float32" and r.ok), None)
    metric = (base.metric if base is not None else None) or "accuracy"
    places = numbers.metric_places([r.accuracy for r in results],
                                   [r.delta_value for r in results if r is not base], metric,
                                   max((r.samples or 0 for r in results), default=0))
    rows = []
    for r in results:
        check = checks.get(r.technique)
        goals = "baseline" if r is base else ("" if check is None else
                                              _GOAL_WORDS[check.state.value])
        ratio = (base.size_bytes / r.size_bytes) if base and base.size_bytes and r.size_bytes \
            else None
        delta = ""
        if r is not base and r.delta_value is not None:
            delta = numbers.change(r.delta_value, metric) + (
                f" ({numbers.p_value(r.delta_p)})" if r.delta_p is not None else "")
        rows.append((style.result_name(r), r.status, goals, readiness_cell(r.readiness)
                     if r.readiness else "",
                     numbers.metric_ci(r.accuracy, r.accuracy_ci, metric, places)
                     if r.accuracy is not None else "–", delta,
                     numbers.size(r.size_bytes), numbers.ratio(ratio) if r is not base else "",
                     numbers.size(r.gzip_bytes), numbers.ms(r.latency_ms_median),
                     numbers.ms_range(r.latency_ms_p10, r.latency_ms_p90),
                     "" if r.latency_threads is None else r.latency_threads,
                     r.latency_kernels or "", r.error or ""))
    return rows


def _chart_html(fig, div_id: str, first: bool, filename: str) -> str:
    config = {"displaylogo": False, "responsive": True,
              "toImageButtonOptions": {"format": "png", "scale": 2, "filename": filename}}
    body = fig.to_html(full_html=False, include_plotlyjs=bool(first), div_id=div_id,
                       config=config)
    button = (f"<button type='button' onclick=\"Plotly.downloadImage('{div_id}',"
              f"{{format:'png',scale:2,width:900,height:600,filename:'{_e(filename)}'}})\">"
              "Save PNG (for slides)</button>")
    return f"<div class='chart'>{button}{body}</div>"


def _recommendation_html(answers) -> tuple[str, str | None]:
    if answers is None:
        return ("<p class='muted'>This run was started without the questionnaire (e.g. from "
                "the command line), so no recommendation is recorded. The insights check the "
                "guide's own table instead.</p>", None)
    from optimizer.guide.targets import TARGET_LABELS
    from optimizer.recommendation.decide import answered_questions, recommend

    rec = recommend(answers)
    answer_rows = [(s.question, "Yes" if s.answer == "Y" else "No", s.because)
                   for s in answered_questions(answers)]
    path = "".join(f"<li><b>{_e(s.question)}</b> → {'Yes' if s.answer == 'Y' else 'No'} — "
                   f"{_e(s.because)}</li>" for s in rec.path)
    reasons = "".join(f"<li>{_e(r)}</li>" for r in rec.reasons)
    pick = _e(rec.run_spec) if rec.run_spec else "nothing runnable with these answers"
    text = (f"<h3>Your answers, as the guide's questions</h3>"
            f"<p>Target hardware: <b>{_e(TARGET_LABELS[answers.target])}</b></p>"
            f"{_table(('the guide asks', 'answer', 'because'), answer_rows)}"
            f"<h3>The guide's decision tree, your path</h3><ol>{path}</ol>"
            f"<p>Recommendation: <b><code>{pick}</code></b></p>"
            f"<h3>Why</h3><ul>{reasons}</ul>")
    return text, rec.run_spec


def _goals_html(verdict) -> str:
    goals = verdict.goals
    if goals is None or not goals.active:
        return "<p>No goals were recorded for this run.</p>"
    items = "".join(f"<li>{_e(text)}</li>" for text in goals.describe(verdict.metric))
    return f"<p>This run is {_e(verdict.judged_by().split(':')[0])}:</p><ul>{items}</ul>"


def _readiness_html(results: list[Result], target: str | None) -> str:
    from optimizer.guide.targets import TARGET_LABELS, Target

    checked = [r for r in results if r.readiness]
    try:
        target = TARGET_LABELS[Target(target)]
    except ValueError:
        target = target or "the target"
    if not checked:
        return (f"<p class='muted'>Readiness for {_e(target)} was not checked "
                "for this run (the Results page's <i>Check readiness</i> or <code>python -m "
                "optimizer readiness</code> does it).</p>")
    frame = readiness_rows(checked)
    headers = [c for c in frame.columns if c not in ("Target runtime metric (%)",
                                                     "LiteRT metric (%)")]
    rows = [tuple(numbers.sig(v) if isinstance(v, float) else ("" if v is None else v)
                  for v in (row[c] for c in headers)) for _, row in frame.iterrows()]
    return _table(headers, rows)


_AGREEMENT = {
    "agreed": ("info", "The measurements agreed with the guide's recommendation: it was "
                       "measured and compared, and nothing measured contradicts it."),
    "disagreed": ("warn", "<b>The measurements disagree with the guide's recommendation.</b> "
                          "See the insights below."),
    "pending": ("info", "Nothing measured contradicts the guide's recommendation so far, but a "
                        "goal is not checked yet (readiness on the target)."),
    "not_measured": ("warn", "The guide's recommendation has no measurement in this run (it "
                             "failed or was not run)."),
    "not_compared": ("info", "The guide's recommendation was measured, but nothing else was "
                             "measured to compare it with."),
}


def _measured_html(results: list[Result], run_dir: Path, events: list) -> str:
    recipe = next((store.read_json(r.recipe_path) for r in results
                   if r.recipe_path and Path(r.recipe_path).is_file()), None) or {}
    versions = recipe.get("libraries") or store.library_versions()
    hosts = sorted({r.measured_on for r in results if r.measured_on}) or ["not recorded"]
    threads = sorted({r.latency_threads for r in results if r.latency_threads})
    invokes = sorted({r.latency_invokes for r in results if r.latency_invokes})
    times = [e.get("t") for e in events if isinstance(e.get("t"), (int, float))]
    when = (f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(min(times)))} to "
            f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(max(times)))}"
            if times else "not recorded")
    rows = [("measured on", "; ".join(hosts)),
            ("latency threads", ", ".join(map(str, threads)) or "–"),
            ("timed invokes per model", ", ".join(map(str, invokes)) or "–"),
            ("run dates", when),
            ("report written", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))]
    rows += [(f"version: {k}", v or "not installed") for k, v in versions.items()]
    how = ("<p>Accuracy: the test split through the LiteRT interpreter. Size: bytes on disk and "
           "gzip -9. Latency: one sample per <code>invoke()</code> in a separate LiteRT-only "
           "process after warm-up; median and p10–p90 of all timed invokes. A difference is "
           "called faster or slower only when the p10–p90 intervals do not overlap.</p>")
    return how + _table(("what", "value"), rows)


def _reproduce_html(request: dict, model: str) -> str:
    ref = _public_model(request.get("model")) or model
    specs = [s for s in request.get("techniques") or [] if s != "float32"]
    cmd = "python -m optimizer run --model " + ref + "".join(f" --technique {s}" for s in specs)
    if request.get("data"):
        cmd += f" --data {_public_model(request['data'])}"
    cmd += "".join(f" --set {p}" for p in request.get("settings") or [])
    lines = [cmd + " --out my-run --json -", "python -m optimizer report my-run --out report.html"]
    return ("<p>From a checkout of the project (<code>make setup</code>), with your own model "
            "and data files where named:</p><pre>" + _e("\n".join(lines)) + "</pre>")


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
    banner = f"<p class='note {box[0]}'>{box[1]}</p>" if box else ""
    stem = "".join(c if c.isalnum() else "-" for c in model)
    charts = [(accuracy_size_figure(frame, size=verdict.size, budget=budget), "acc-size"),
              (accuracy_latency_figure(frame, budget=budget), "acc-latency"),
              (size_bars_figure(frame), "sizes")]
    charts_html = "".join(_chart_html(fig, f"chart-{name}", i == 0, f"{stem}-{name}")
                          for i, (fig, name) in enumerate(charts))
    notes_html = "".join(
        f"<div class='note {'warn' if n.severity == 'warning' else 'info'}'>"
        f"<b>{_e(n.kind)}</b>{' · <code>' + _e(n.technique) + '</code>' if n.technique else ''}"
        f" — {_e(n.text)}</div>" for n in notes) or "<p>No insights.</p>"
    headers = ("technique", "status", "goals", "readiness", "metric (95 % interval)",
               "Δ vs float32 (p)", "size", "x smaller", "gzip", "latency median", "p10–p90",
               "threads", "kernels", "note")
    body = (
        f"<h1>LiteRT optimization report: {_e(model)}</h1>"
        f"<p class='muted'>Every number below was measured by LiteRT Optimization Studio on the "
        f"machine named under “How it was measured”. Guide: <a href='{GUIDE_URL}'>"
        f"LiteRT Model optimization</a>.</p>"
        f"<h2>Model</h2><p><b>{_e(model)}</b> (reference "
        f"<code>{_e(_public_model(request.get('model')) or model)}</code>)</p>"
        f"<h2>Goals</h2>{_goals_html(verdict)}"
        f"<h2>Recommendation</h2>{rec_html}{banner}"
        f"<h2>Results</h2><p class='muted'>Metric: {_e(verdict.metric)} on the test split "
        f"(percent for accuracy) with its 95 % interval; Δ in percentage points against "
        f"float32 with the paired test's p-value (exact McNemar on the same test samples, a "
        f"paired bootstrap for RMSE; below 0.05 the change is measurable).</p>"
        f"{_table(headers, _results_rows(results, checks), numeric=(4, 5, 6, 7, 8, 9, 10))}"
        f"<h2>Ready for the target</h2>{_readiness_html(results, verdict.target)}"
        f"<h2>Charts</h2>{charts_html}"
        f"<h2>Insights</h2>{notes_html}"
        f"<h2>How it was measured</h2>{_measured_html(results, run_dir, read_events(run_dir / store.EVENTS))}"
        f"<h2>Reproduce</h2>{_reproduce_html(request, model)}")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(model)} · LiteRT optimization report</title><style>{_CSS}</style>"
            f"</head><body>{body}</body></html>")
